/**
 * The staggered relay race behind `connect()`: the first relay is dialled at once and
 * each next one `staggerMs` later if none has carried the link yet, or at once when
 * one fails (Happy Eyeballs, RFC 8305 section 5). The first route carries the link;
 * attempts still running when the race ends go on and may become spares.
 */
import type { RelayAddress } from '../util/parse.js'
import type { RouteFailure } from './failure.js'

export interface RaceInit {
  /** The relays in the order to try them, best first. */
  relays: readonly RelayAddress[]
  staggerMs: number
  signal: AbortSignal
  /** Dial a route through `relay`; resolves undefined when it carries the link. */
  attempt(relay: RelayAddress): Promise<RouteFailure | undefined>
  /** True once the link is carried some other way and no more relays need trying. */
  settled(): boolean
}

export type RaceOutcome =
  | { kind: 'carried' }
  | { kind: 'failed', failures: RouteFailure[] }
  | { kind: 'aborted' }

export async function raceRelays (init: RaceInit): Promise<RaceOutcome> {
  const { relays, signal } = init
  if (signal.aborted) {
    return { kind: 'aborted' }
  }
  const failures: RouteFailure[] = []
  const { promise, resolve } = Promise.withResolvers<RaceOutcome>()
  let finished = false
  const finish = (outcome: RaceOutcome): void => {
    finished = true
    resolve(outcome)
  }
  const onAbort = (): void => { finish({ kind: 'aborted' }) }
  signal.addEventListener('abort', onAbort, { once: true })
  let next = 0
  let running = 0
  let staggerTimer: ReturnType<typeof setTimeout> | undefined

  const launch = (): void => {
    clearTimeout(staggerTimer)
    staggerTimer = undefined
    if (finished || signal.aborted) {
      return
    }
    if (init.settled()) {
      finish({ kind: 'carried' })
      return
    }
    const relay = relays[next++]
    if (relay === undefined) {
      if (running === 0) {
        finish({ kind: 'failed', failures })
      }
      return
    }
    running++
    init.attempt(relay).then(failure => {
      running--
      if (failure === undefined) {
        finish({ kind: 'carried' })
        return
      }
      failures.push(failure)
      launch()
    }, (err: unknown) => {
      // attempt() reports failures as values; a throw is a bug, counted against the relay
      running--
      failures.push({ kind: 'relay-unreachable', relay: relay.text, step: 'relay', cause: err })
      launch()
    })
    if (next < relays.length) {
      staggerTimer = setTimeout(launch, init.staggerMs)
    }
  }

  launch()
  try {
    return await promise
  } finally {
    clearTimeout(staggerTimer)
    signal.removeEventListener('abort', onAbort)
  }
}
