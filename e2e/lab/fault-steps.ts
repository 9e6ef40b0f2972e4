/**
 * Steps and checks of the fault tests: peers on several relays, relay states, and
 * summaries of long numbered streams (a diff of 10,000 strings says nothing useful).
 */
import { expect } from '@playwright/test'
import type { RelayStatus } from '@lifeline/sdk'
import type { HarnessPage } from './harness-client.js'
import type { RestartableRelay } from './relays.js'

/**
 * Start every peer on all `relays` (with `direct` when given) and wait until each holds
 * a reservation on every one of them; `start()` itself returns after the first.
 */
export async function startOnRelays (relays: RestartableRelay[], peers: HarnessPage[], direct?: boolean): Promise<void> {
  const addresses = relays.map((relay) => relay.multiaddr)
  await Promise.all(peers.map(async (peer) => peer.startWith({ relays: addresses, ...(direct === undefined ? {} : { direct }) })))
  for (const peer of peers) {
    await expect.poll(() => peer.relayStates(addresses), {
      message: `${peer.name} holds a reservation on every relay`
    }).toEqual(addresses.map(() => 'reserved'))
  }
}

/** `peer`'s view of `relay`; fails when the peer does not list it. */
export async function relayStatus (peer: HarnessPage, relay: RestartableRelay): Promise<RelayStatus> {
  const status = (await peer.status()).relays.find((r) => r.multiaddr === relay.multiaddr)
  if (status === undefined) {
    throw new Error(`${peer.name} does not list relay ${relay.index} (${relay.multiaddr})`)
  }
  return status
}

/**
 * 'ok' when `received` is exactly "1".."count" in order; otherwise what is wrong (length,
 * first difference, missing and repeated numbers), short enough for an assertion message.
 */
export function checkNumbered (received: string[], count: number): string {
  let firstDifference = -1
  for (let i = 0; i < Math.max(received.length, count); i++) {
    if (received[i] !== String(i + 1)) {
      firstDifference = i
      break
    }
  }
  if (firstDifference === -1) {
    return 'ok'
  }
  const seen = new Map<string, number>()
  for (const text of received) {
    seen.set(text, (seen.get(text) ?? 0) + 1)
  }
  const missing: number[] = []
  for (let n = 1; n <= count; n++) {
    if (!seen.has(String(n))) {
      missing.push(n)
    }
  }
  const repeated = [...seen].filter(([, times]) => times > 1).map(([text]) => text)
  const extra = [...seen.keys()].filter((text) => !/^\d+$/.test(text) || Number(text) < 1 || Number(text) > count)
  const shown = (items: Array<string | number>): string =>
    `${items.length}${items.length > 0 ? ` (${items.slice(0, 10).join(', ')}${items.length > 10 ? ', ...' : ''})` : ''}`
  return [
    `${received.length} received for ${count}`,
    `first difference at position ${firstDifference + 1}: got ${JSON.stringify(received[firstDifference])}, expected "${firstDifference + 1}"`,
    `missing ${shown(missing)}`,
    `repeated ${shown(repeated)}`,
    `unexpected ${shown(extra)}`
  ].join('; ')
}

export interface Gap {
  ms: number
  /** The gap ends with the arrival of this message (1-based position). */
  beforeMessage: number
  /** `Date.now()` when the message before the gap arrived. */
  from: number
}

/** The longest time between two consecutive arrivals. */
export function longestGap (times: number[]): Gap {
  let gap: Gap = { ms: 0, beforeMessage: 1, from: times[0] ?? 0 }
  for (let i = 1; i < times.length; i++) {
    const previous = times[i - 1] ?? 0
    const ms = (times[i] ?? 0) - previous
    if (ms > gap.ms) {
      gap = { ms, beforeMessage: i + 1, from: previous }
    }
  }
  return gap
}
