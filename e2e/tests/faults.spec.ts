/**
 * Faults of issue 3: a relay dies under a relayed link, a relay restarts, the direct path
 * is cut again and again under a long stream, the browser goes offline. Each test
 * asserts what arrived (every numbered message once, in order), not only that nothing
 * threw. Two relays run in namespace A; both peers reserve on both.
 */
import { expect, test } from '../lab/fixtures.js'
import type { HarnessPage, PathChangeRecord } from '../lab/harness-client.js'
import type { RestartableRelay } from '../lab/relays.js'
import { checkNumbered, longestGap, relayStatus, startOnRelays } from '../lab/fault-steps.js'
import { CONNECT_TIMEOUT_MS, expectDelivered, expectDirect, expectOk } from '../lab/steps.js'

test.use({ relayCount: 2, sdkDebug: 'lifeline:*' })

/** Relays are pinged every 750 ms and dead after at most 2 s more; a killed process is seen at once. */
const RELAY_DEAD_WITHIN_MS = 5000
/** Every path is pinged every 500 ms and dead within 2.5 s. */
const PATH_DEAD_WITHIN_MS = 10_000
/** The pool's backoff is capped at 30 s (RELAY_BACKOFF_MAX_MS), plus a dial and a reservation. */
const RESERVED_AGAIN_WITHIN_MS = 45_000
/** The direct upgrade is retried from 2 s, doubling; each attempt may take up to 8 s. */
const DIRECT_AGAIN_WITHIN_MS = 30_000
/** A stream of numbered messages must finish this long after its last fault. */
const DRAIN_WITHIN_MS = 60_000
/**
 * Messages keep flowing when the carrying relay is killed: the longest pause between
 * two arrivals is measured (1.6-1.9 s on one machine; `pnpm bench` reports it as
 * failoverGapMs) and bounded at about ten times that, so the test tells a link that
 * moved on from one that waited for a reconnect or a backoff, whatever the machine.
 */
const FAILOVER_GAP_BOUND_MS = 20_000
/**
 * After the browser comes back online, the window's `online` event retries the relays
 * at once instead of waiting out the backoff the outage built up: 1.9 s measured on
 * one machine, bounded at about ten times that.
 */
const RESERVED_AFTER_ONLINE_BOUND_MS = 20_000

function both (relays: RestartableRelay[]): [RestartableRelay, RestartableRelay] {
  const [first, second] = relays
  if (first === undefined || second === undefined) {
    throw new Error('two relays expected (relayCount: 2)')
  }
  return [first, second]
}

/** The relay that carries A's link to B now, and how the test knows. */
async function carrierOf (relays: RestartableRelay[], a: HarnessPage, b: HarnessPage,
  wonRace: string | undefined): Promise<{ relay: RestartableRelay, source: string }> {
  const reported = (await a.linkRoute(b.peerId)).relayPeerId
  const byStatus = relays.find((relay) => relay.peerId === reported)
  if (byStatus !== undefined) {
    return { relay: byStatus, source: 'status().links[].relayPeerId' }
  }
  // Without relayPeerId in status(): the route that won connect()'s race carries the link,
  // and inside the relayed tier the SDK moves only for a clear RTT gain.
  const byRace = relays.find((relay) => relay.multiaddr === wonRace)
  if (byRace === undefined) {
    throw new Error(`neither status() nor connect() progress named the relay carrying the link (race won by ${String(wonRace)})`)
  }
  return { relay: byRace, source: "connect() progress 'relayed' event" }
}

function describeChanges (changes: PathChangeRecord[], since: number): string {
  return changes.map((change) => `${change.previous}->${change.path} at +${change.at - since} ms`).join(', ') || 'none'
}

async function waitForNumbered (from: HarnessPage, to: HarnessPage, count: number, total: number): Promise<void> {
  await expect.poll(() => from.numberedProgress(to.peerId), {
    timeout: DRAIN_WITHIN_MS,
    message: `${from.name} sends all ${count} messages without an error`
  }).toEqual({ sent: count, done: true, error: undefined })
  await expect.poll(async () => (await to.received(from.peerId)).length, {
    timeout: DRAIN_WITHIN_MS,
    message: `${to.name} receives all ${total} messages`
  }).toBeGreaterThanOrEqual(total)
}

test('keeps a relayed link alive through the second relay when the carrying relay dies', async ({ relays, a, b }) => {
  test.setTimeout(120_000)
  const COUNT = 600
  await startOnRelays(relays, [a, b], false)

  const connected = await a.connectTracked(b.peerId, CONNECT_TIMEOUT_MS)
  expectOk(connected, 'A connects to B')
  const wonRace = connected.ok ? connected.relay : undefined
  // The warm spare: a second relayed route, through the other relay (when status() counts paths).
  await expect.poll(async () => (await a.linkRoute(b.peerId)).paths ?? 2, {
    message: 'A\'s link has a spare route'
  }).toBeGreaterThanOrEqual(2)

  // About 6 s of sending: 10 messages every 100 ms.
  await a.startNumbered(b.peerId, { count: COUNT, pauseEvery: 10, pauseMs: 100 })
  await expect.poll(async () => (await a.numberedProgress(b.peerId)).sent).toBeGreaterThanOrEqual(COUNT / 3)

  const { relay: dead, source } = await carrierOf(relays, a, b, wonRace)
  const survivor = relays.find((relay) => relay !== dead)
  if (survivor === undefined) {
    throw new Error('two relays expected')
  }
  const killedAt = Date.now()
  const sentAtKill = (await a.numberedProgress(b.peerId)).sent
  await dead.kill()

  await waitForNumbered(a, b, COUNT, COUNT)
  const received = await b.received(a.peerId)
  expect(checkNumbered(received, COUNT), 'B received 1..N exactly once, in order').toBe('ok')

  const times = await b.receivedTimes(a.peerId)
  const gap = longestGap(times)
  // Arrivals from the last one before the kill on: the failover's own gap, apart from the pacing.
  const firstAfterKill = times.findIndex((t) => t >= killedAt)
  const killGap = longestGap(times.slice(Math.max(0, firstAfterKill - 1)).filter((t) => t < killedAt + 5000))
  console.log(`carrier: relay ${dead.index} (known from ${source}; connect() raced to relay ` +
    `${relays.find((r) => r.multiaddr === wonRace)?.index ?? 'none'}); killed when A had sent ${sentAtKill}; ` +
    `longest gap between arrivals ${gap.ms} ms (before message ${gap.beforeMessage}), ` +
    `longest within 5 s of the kill ${killGap.ms} ms`)
  expect(gap.ms, 'longest gap between two arrivals (ms)').toBeLessThan(FAILOVER_GAP_BOUND_MS)

  for (const peer of [a, b]) {
    await expect.poll(async () => [(await relayStatus(peer, dead)).state, (await relayStatus(peer, survivor)).state], {
      timeout: RELAY_DEAD_WITHIN_MS,
      message: `${peer.name} reports relay ${dead.index} down and relay ${survivor.index} reserved`
    }).toEqual(['down', 'reserved'])
  }
  // Still the same link, still relayed, now through the survivor, and usable both ways.
  expect(await a.link(b.peerId)).toMatchObject({ closed: false, path: 'relayed', links: 1 })
  expect(await b.link(a.peerId)).toMatchObject({ closed: false, path: 'relayed', links: 1 })
  const now = (await a.linkRoute(b.peerId)).relayPeerId
  if (now !== undefined) {
    expect(now, 'A\'s link is carried by the surviving relay').toBe(survivor.peerId)
  }
  await expectDelivered(b, a, 'after the relay died, from B')
  await expectDelivered(a, b, 'after the relay died, from A')
})

test('restores reservations after a relay restarts, and new links work', async ({ relays, a, b }) => {
  test.setTimeout(150_000)
  const [first, second] = both(relays)
  await startOnRelays(relays, [a, b], false)
  expectOk(await a.connect(b.peerId, CONNECT_TIMEOUT_MS), 'A connects to B')
  await expectDelivered(a, b, 'before the restart')

  const killedAt = Date.now()
  await first.kill()
  // Down on both sides, and retried at least once in vain, so its backoff has begun to grow.
  for (const peer of [a, b]) {
    await expect.poll(async () => {
      const status = await relayStatus(peer, first)
      return status.state !== 'reserved' && status.failures >= 2
    }, { timeout: RELAY_DEAD_WITHIN_MS + 5000, message: `${peer.name} has failed on relay 1 at least twice` }).toBe(true)
  }
  await expectDelivered(a, b, 'while relay 1 is down')

  await first.restart()
  const restartedAt = Date.now()
  const back: string[] = []
  for (const peer of [a, b]) {
    await expect.poll(async () => (await relayStatus(peer, first)).state, {
      timeout: RESERVED_AGAIN_WITHIN_MS,
      message: `${peer.name} holds a reservation on the restarted relay again`
    }).toBe('reserved')
    back.push(`${peer.name} after ${Date.now() - restartedAt} ms`)
  }
  const downs = (await a.relayHistory()).filter((r) => r.multiaddr === first.multiaddr && r.state === 'down')
  console.log(`relay 1 was down ${restartedAt - killedAt} ms (A saw it fail ${downs.length} times: ` +
    `${downs.map((d) => `+${d.at - killedAt} ms ${d.lastError ?? ''}`).join('; ')}); ` +
    `reserved again ${back.join(', ')} after the restart`)

  // A new link that can only go through the restarted relay: close the old one, kill the other relay.
  expectOk(await a.close(b.peerId), 'A closes the old link')
  await expect.poll(async () => (await b.link(a.peerId)).closed, { message: 'B sees the old link closed' }).toBe(true)
  await second.kill()
  for (const peer of [a, b]) {
    await expect.poll(async () => [(await relayStatus(peer, first)).state, (await relayStatus(peer, second)).state], {
      timeout: RELAY_DEAD_WITHIN_MS,
      message: `${peer.name} reports relay 1 reserved and relay 2 not`
    }).toEqual(['reserved', expect.not.stringMatching(/^reserved$/)])
  }
  const fresh = await a.connectTracked(b.peerId, CONNECT_TIMEOUT_MS)
  expectOk(fresh, 'A connects to B anew')
  expect(fresh.ok ? fresh.relay : undefined, 'the new link runs through the restarted relay').toBe(first.multiaddr)
  await expectDelivered(a, b, 'on the new link, from A')
  await expectDelivered(b, a, 'on the new link, from B')
})

test('delivers 10,000 numbered messages in order while the direct path is killed repeatedly', async ({ lab, relays, a, b }) => {
  test.setTimeout(240_000)
  const COUNT = 10_000
  const CYCLES = 3
  await startOnRelays(relays, [a, b])
  expectOk(await a.connect(b.peerId, CONNECT_TIMEOUT_MS), 'A connects to B')
  await expectDirect(a, b)

  // About 30 s of sending: 25 messages every 75 ms.
  const startedAt = Date.now()
  await a.startNumbered(b.peerId, { count: COUNT, pauseEvery: 25, pauseMs: 75 })
  const log: string[] = []
  for (let cycle = 1; cycle <= CYCLES; cycle++) {
    // Spread the faults over the stream: cycle k starts once k quarters have been sent.
    await expect.poll(async () => (await a.numberedProgress(b.peerId)).sent, {
      timeout: DRAIN_WITHIN_MS,
      message: `A sends ${cycle} quarter(s) of the stream before cycle ${cycle}`
    }).toBeGreaterThanOrEqual(cycle * COUNT / (CYCLES + 1))
    await lab.blockUdp(lab.nsB)
    const blockedAt = Date.now()
    const sentAtBlock = (await a.numberedProgress(b.peerId)).sent
    // both sides, before UDP comes back: each finds the dead path by its own pings, and
    // on a loaded machine B may take longer than A (seen under --under-load)
    await expect.poll(async () => [await a.path(b.peerId), await b.path(a.peerId)], {
      timeout: PATH_DEAD_WITHIN_MS,
      intervals: [100],
      message: `cycle ${cycle}: A and B fall back to the relay`
    }).toEqual(['relayed', 'relayed'])
    const relayedAt = Date.now()
    await lab.unblockUdp(lab.nsB)
    await expect.poll(() => a.path(b.peerId), {
      timeout: DIRECT_AGAIN_WITHIN_MS,
      intervals: [100],
      message: `cycle ${cycle}: A is direct again`
    }).toBe('direct')
    log.push(`cycle ${cycle}: UDP blocked at +${blockedAt - startedAt} ms (A had sent ${sentAtBlock}), relayed after ${relayedAt - blockedAt} ms, ` +
      `direct again ${Date.now() - relayedAt} ms after the unblock`)
    expect(sentAtBlock, `cycle ${cycle} began while A was still sending`).toBeLessThan(COUNT)
  }

  await waitForNumbered(a, b, COUNT, COUNT)
  log.push(`B has all ${COUNT} at +${Date.now() - startedAt} ms`)
  expect(checkNumbered(await b.received(a.peerId), COUNT), 'B received 1..10000 exactly once, in order').toBe('ok')

  const changesA = await a.pathChanges(b.peerId)
  const changesB = await b.pathChanges(a.peerId)
  console.log([...log,
    `A path changes: ${describeChanges(changesA, startedAt)}`,
    `B path changes: ${describeChanges(changesB, startedAt)}`,
    `longest gap at B: ${longestGap(await b.receivedTimes(a.peerId)).ms} ms`].join('\n'))
  for (const [side, changes] of [['A', changesA], ['B', changesB]] as const) {
    expect(changes.filter((c) => c.previous === 'direct' && c.path === 'relayed').length,
      `${side}: falls back to the relay in every cycle`).toBeGreaterThanOrEqual(CYCLES)
    // The first upgrade, then one per cycle.
    expect(changes.filter((c) => c.previous === 'relayed' && c.path === 'direct').length,
      `${side}: comes back to direct in every cycle`).toBeGreaterThanOrEqual(CYCLES + 1)
  }
})

test('resumes a link by itself after the browser goes offline and online', async ({ relays, a, b }) => {
  test.setTimeout(120_000)
  const COUNT = 400
  /** The outage: long enough for the relays' pings and the link's pings to give up. */
  const OFFLINE_MS = 5000
  const addresses = relays.map((relay) => relay.multiaddr)
  // Relayed only: Chromium's offline emulation holds WebSocket traffic but not WebRTC's.
  await startOnRelays(relays, [a, b], false)
  expectOk(await a.connect(b.peerId, CONNECT_TIMEOUT_MS), 'A connects to B')
  await expectDelivered(a, b, 'before going offline')

  // About 10 s of sending: 10 messages every 250 ms, through the outage.
  await a.startNumbered(b.peerId, { count: COUNT, pauseEvery: 10, pauseMs: 250 })
  await expect.poll(async () => (await a.numberedProgress(b.peerId)).sent).toBeGreaterThanOrEqual(50)

  const context = a.page.context()
  await context.setOffline(true)
  const offlineAt = Date.now()
  const sentAtOffline = (await a.numberedProgress(b.peerId)).sent
  await expect.poll(() => a.relayStates(addresses), {
    timeout: OFFLINE_MS,
    intervals: [100],
    message: 'A loses its reservations while offline'
  }).toEqual(expect.not.arrayContaining(['reserved']))
  const relaysLostAfter = Date.now() - offlineAt
  // The scenario is a timed outage: the rest of it is a plain wait.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, offlineAt + OFFLINE_MS - Date.now())))
  const sentAtOnline = (await a.numberedProgress(b.peerId)).sent
  const receivedAtOnline = (await b.received(a.peerId)).length - 1
  await context.setOffline(false)
  const onlineAt = Date.now()

  await expect.poll(() => a.relayStates(addresses), {
    timeout: RESERVED_AGAIN_WITHIN_MS,
    intervals: [100],
    message: 'A holds its reservations again'
  }).toEqual(['reserved', 'reserved'])
  const reservedAfter = Date.now() - onlineAt
  // The window's `online` event retries at once, not after the backoff the outage has built up.
  expect(reservedAfter, 'ms from online to both relays reserved').toBeLessThan(RESERVED_AFTER_ONLINE_BOUND_MS)
  // Each relay went down during the outage (not merely 'connecting' the whole time).
  const downs = (await a.relayHistory()).filter((r) => r.state === 'down' && r.at >= offlineAt && r.at <= onlineAt)
  expect(addresses.filter((address) => !downs.some((d) => d.multiaddr === address)), 'relays A never reported down while offline').toEqual([])
  await waitForNumbered(a, b, COUNT, COUNT + 1)
  const deliveredAfter = Date.now() - onlineAt
  const received = await b.received(a.peerId)
  expect(received[0]).toBe('before going offline')
  expect(checkNumbered(received.slice(1), COUNT), 'B received 1..N exactly once, in order').toBe('ok')

  const history = (await a.networkHistory()).map((record) => `${record.event} ${record.at - offlineAt} ms`)
  console.log(`offline for ${onlineAt - offlineAt} ms; A sent ${sentAtOffline} before, ${sentAtOnline - sentAtOffline} while offline ` +
    `(B had ${receivedAtOnline} when A came back); A's relays down ${relaysLostAfter} ms after going offline, ` +
    `reserved again ${reservedAfter} ms after coming back; all ${COUNT} at B ${deliveredAfter} ms after coming back\n` +
    `A network events: ${history.join(', ')}`)
  // A kept calling send() while offline, and those messages waited instead of failing.
  expect(sentAtOnline - sentAtOffline, 'messages A sent while offline').toBeGreaterThan(0)
  expect(history.some((h) => h.startsWith('peer-offline')) && history.some((h) => h.startsWith('peer-online')),
    'A\'s peer reported going offline and online').toBe(true)

  // The same link on both sides, never closed, and usable both ways: nobody called connect() again.
  expect(await a.link(b.peerId)).toMatchObject({ closed: false, path: 'relayed', links: 1 })
  expect(await b.link(a.peerId)).toMatchObject({ closed: false, path: 'relayed', links: 1 })
  await expectDelivered(b, a, 'after the outage, from B')
  await expectDelivered(a, b, 'after the outage, from A')
})
