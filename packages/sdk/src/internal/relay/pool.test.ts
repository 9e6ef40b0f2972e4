/**
 * The relay pool's health monitoring on a fake clock: a missed ping makes a relay
 * slow, not dead; silence makes it dead within about 3 s; a timeout that fired late
 * because the event loop was blocked does not count, nor does one while the relay
 * kept forwarding circuit data.
 */
import type { Connection } from '@libp2p/interface'
import { afterEach, assert, beforeEach, describe, expect, it, vi } from 'vitest'
import { RelayPool, type RelayPoolComponents } from './pool.js'
import { parseRelayAddress } from '../util/parse.js'
import { RELAY_BUSY_MS, RELAY_IDLE_PING_INTERVAL_MS, RELAY_PING_INTERVAL_MS, RELAY_PING_TIMEOUT_MIN_MS, RELAY_PINGS_IN_FLIGHT } from '../../constants.js'
import type { RelayStatus } from '../../types.js'

const RELAY_ID = '12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq'
const RELAY = `/ip4/127.0.0.1/tcp/4001/ws/p2p/${RELAY_ID}`
/** What the fake relay takes to answer a ping when it answers. */
const PONG_MS = 5

type PingBehaviour = 'answer' | 'silent' | 'slow'

function fakeConnection (): Connection {
  // the pool only listens for 'close' and hands the connection back to its components
  return new EventTarget() as unknown as Connection
}

function silentLog (): RelayPoolComponents['log'] {
  const log = Object.assign(() => {}, { enabled: false, trace: () => {}, error: () => {} })
  // the pool only calls the logger and its trace and error levels
  return log as unknown as RelayPoolComponents['log']
}

interface Harness {
  pool: RelayPool
  statuses: RelayStatus[]
  setPing(behaviour: PingBehaviour): void
  /** Pings sent and not yet settled, at most so far. */
  maxInFlight(): number
  /** Extra time `now()` reports, as after the event loop was blocked. */
  blockLoop(ms: number): void
  latest(): RelayStatus | undefined
  /** Connections the pool closed as dead. */
  aborted(): number
  /** Pings sent so far. */
  pings(): number
}

function harness (): Harness {
  let behaviour: PingBehaviour = 'answer'
  let blocked = 0
  let inFlight = 0
  let maxInFlight = 0
  let aborted = 0
  let pings = 0
  const statuses: RelayStatus[] = []
  const components: RelayPoolComponents = {
    connect: async relay => Promise.resolve({ connection: fakeConnection(), address: relay.addresses[0] ?? assert.fail('no address') }),
    reserve: () => Promise.resolve({ expiresAt: Date.now() + 3_600_000 }),
    // AbortSignal.timeout runs on real timers, so a silent relay's ping fails on the
    // fake clock after the pool's timeout at this RTT (its floor)
    ping: async () => {
      pings++
      maxInFlight = Math.max(maxInFlight, ++inFlight)
      try {
        return await new Promise<number>((resolve, reject) => {
          if (behaviour === 'answer') {
            setTimeout(() => { resolve(PONG_MS) }, PONG_MS)
          } else if (behaviour === 'silent') {
            setTimeout(() => { reject(new Error('ping timed out')) }, RELAY_PING_TIMEOUT_MIN_MS)
          }
          // 'slow': no answer on the fake clock (the pool's AbortSignal.timeout runs on
          // real time, which this test outpaces): every ping stays in flight
        })
      } finally {
        inFlight--
      }
    },
    abort: () => { aborted++ },
    now: () => Date.now() + blocked,
    random: () => 0.5,
    log: silentLog()
  }
  const pool = new RelayPool([parseRelayAddress(RELAY)], 1, components, status => { statuses.push(status) })
  return {
    pool,
    statuses,
    setPing: b => { behaviour = b },
    maxInFlight: () => maxInFlight,
    blockLoop: ms => { blocked += ms },
    latest: () => pool.status()[0],
    aborted: () => aborted,
    pings: () => pings
  }
}

/**
 * Link frames arriving every 50 ms for `ms` on the fake clock, through `relayPeerId`
 * (undefined: on a direct path); `data`: messages or acks, not pings.
 */
async function framesFor (h: Harness, relayPeerId: string | undefined, data: boolean, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 50) {
    h.pool.heardFrom(relayPeerId, data)
    await vi.advanceTimersByTimeAsync(50)
  }
}

/** Advances the fake clock in 50 ms steps until the relay is down; the ms that took, or Infinity. */
async function msUntilDown (h: Harness, limitMs: number): Promise<number> {
  const from = Date.now()
  for (let t = 0; t < limitMs; t += 50) {
    await vi.advanceTimersByTimeAsync(50)
    if (h.latest()?.state === 'down') {
      return Date.now() - from
    }
  }
  return Infinity
}

describe('RelayPool health', () => {
  beforeEach(() => { vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval', 'clearTimeout', 'clearInterval', 'Date'] }) })
  afterEach(() => { vi.useRealTimers() })

  it('keeps a relay that misses one ping reserved, marked slow, until its next pong', async () => {
    const h = harness()
    h.pool.start()
    await vi.advanceTimersByTimeAsync(2_000)
    expect(h.latest()).toMatchObject({ state: 'reserved' })
    expect(h.latest()?.slow).toBeUndefined()

    h.setPing('silent')
    // idle: the next ping goes out RELAY_IDLE_PING_INTERVAL_MS after the first (at 0 s);
    // just past its timeout it is missed
    await vi.advanceTimersByTimeAsync(RELAY_IDLE_PING_INTERVAL_MS - 2_000 + RELAY_PING_TIMEOUT_MIN_MS + 300)
    expect(h.latest()).toMatchObject({ state: 'reserved', slow: true })

    h.setPing('answer')
    await vi.advanceTimersByTimeAsync(2_000)
    expect(h.latest()).toMatchObject({ state: 'reserved' })
    expect(h.latest()?.slow).toBeUndefined()
    expect(h.statuses.some(s => s.state === 'down')).toBe(false)
    h.pool.stop()
  })

  it('pings an idle relay every RELAY_IDLE_PING_INTERVAL_MS, and a busy one every RELAY_PING_INTERVAL_MS', async () => {
    const h = harness()
    h.pool.start()
    await vi.advanceTimersByTimeAsync(2_000)
    const idleFrom = h.pings()
    await vi.advanceTimersByTimeAsync(RELAY_IDLE_PING_INTERVAL_MS * 5)
    expect(h.pings() - idleFrom).toBe(5)
    // link data through the relay: the next ping comes at the busy pace
    const busyFrom = h.pings()
    await framesFor(h, RELAY_ID, true, RELAY_PING_INTERVAL_MS * 10)
    expect(h.pings() - busyFrom).toBeGreaterThanOrEqual(9)
    // pings alone through it (an idle link's keep-alives) do not make it busy
    await vi.advanceTimersByTimeAsync(RELAY_BUSY_MS)
    const quietFrom = h.pings()
    await framesFor(h, RELAY_ID, false, RELAY_IDLE_PING_INTERVAL_MS * 2)
    expect(h.pings() - quietFrom).toBeLessThanOrEqual(3)
    h.pool.stop()
  })

  it('pings an idle relay at once when the browser goes offline, and finds it dead in seconds', async () => {
    const h = harness()
    h.pool.start()
    await vi.advanceTimersByTimeAsync(2_000)
    h.setPing('silent')
    h.pool.checkNow()
    // three 1 s timeouts overlapping at the 250 ms suspect interval, not the idle interval
    expect(await msUntilDown(h, 10_000)).toBeLessThanOrEqual(2_600)
    h.pool.stop()
  })

  it('declares an idle relay that goes silent dead within its idle interval and about 3 s', async () => {
    const h = harness()
    h.pool.start()
    await vi.advanceTimersByTimeAsync(2_000)
    h.setPing('silent')
    // the idle interval + three 1 s timeouts overlapping at the 250 ms suspect interval
    expect(await msUntilDown(h, RELAY_IDLE_PING_INTERVAL_MS + 10_000)).toBeLessThanOrEqual(RELAY_IDLE_PING_INTERVAL_MS + 2_600)
    expect(h.latest()?.lastError).toContain('3 pings in a row')
    // its connection is closed, so a new dial cannot be handed the dead one
    expect(h.aborted()).toBe(1)
    h.pool.stop()
  })

  it('does not count timeouts that fired on a blocked event loop', async () => {
    const h = harness()
    h.pool.start()
    await vi.advanceTimersByTimeAsync(2_000)
    h.setPing('silent')
    // every timeout is seen 2 s late, as after a long GC pause or a busy page
    for (let i = 0; i < 20; i++) {
      h.blockLoop(100)
      await vi.advanceTimersByTimeAsync(250)
    }
    expect(h.statuses.some(s => s.state === 'down')).toBe(false)
    expect(h.latest()?.state).toBe('reserved')
    expect(h.aborted()).toBe(0)
    h.pool.stop()
  })

  it('keeps a relay whose pongs are queued behind the circuit data it forwards', async () => {
    const h = harness()
    h.pool.start()
    await vi.advanceTimersByTimeAsync(2_000)
    h.setPing('silent')
    // a bulk transfer through the relay: frames keep arriving, pongs do not
    await framesFor(h, RELAY_ID, true, 10_000)
    expect(h.statuses.some(s => s.state === 'down')).toBe(false)
    // the data stops too: now it is silence; pings sent while data still arrived may be
    // excused, the next three are not
    expect(await msUntilDown(h, 10_000)).toBeLessThanOrEqual(4_300)
    h.pool.stop()
  })

  it('does not count pings that time out while link data arrives on another path (this page is busy receiving)', async () => {
    const h = harness()
    h.pool.start()
    await vi.advanceTimersByTimeAsync(2_000)
    h.setPing('silent')
    // a bulk transfer over a direct path (no relay): this relay forwards nothing
    await framesFor(h, undefined, true, 10_000)
    expect(h.statuses.some(s => s.state === 'down')).toBe(false)
    // pings on another path are not data: they excuse nothing
    const quiet = setInterval(() => { h.pool.heardFrom(undefined, false) }, 50)
    try {
      expect(await msUntilDown(h, RELAY_IDLE_PING_INTERVAL_MS + 10_000)).toBeLessThanOrEqual(RELAY_IDLE_PING_INTERVAL_MS + 4_300)
    } finally {
      clearInterval(quiet)
    }
    h.pool.stop()
  })

  it('never has more than RELAY_PINGS_IN_FLIGHT pings to one relay unanswered', async () => {
    const h = harness()
    h.pool.start()
    await vi.advanceTimersByTimeAsync(2_000)
    h.setPing('slow')
    await vi.advanceTimersByTimeAsync(10_000)
    expect(h.maxInFlight()).toBeLessThanOrEqual(RELAY_PINGS_IN_FLIGHT)
    h.pool.stop()
  })
})
