import { describe, expect, it } from 'vitest'
import { SourceLimits, type SourceLimitsInit } from './source-limits.js'

const A = '203.0.113.1'
const B = '203.0.113.2'
const C = '203.0.113.3'
const D = '203.0.113.4'

/** Limits far away from whatever a test does not look at, and a clock the test moves. */
function limitsWith (overrides: Partial<Omit<SourceLimitsInit, 'now'>>): { limits: SourceLimits, advance: (ms: number) => void } {
  let now = 1_000
  const limits = new SourceLimits({
    maxConnections: 1000,
    maxConnectionsPerSource: 100,
    connectionRate: 1000,
    connectionRatePerSource: 1000,
    maxPendingConnections: 1000,
    maxPendingPerSource: 1000,
    maxReservations: 1000,
    maxReservationsPerSource: 1000,
    ...overrides,
    now: () => now
  })
  return { limits, advance: ms => { now += ms } }
}

/** Admits and closes at once: spends a rate token but holds no slot. */
function connectAndClose (limits: SourceLimits, address: string): ReturnType<SourceLimits['admitConnection']> {
  const refusal = limits.admitConnection(address)
  if (refusal === undefined) {
    limits.connectionClosed(address, true)
  }
  return refusal
}

describe('connection caps', () => {
  it('refuses a sixth connection from one source while another source still connects', () => {
    const { limits } = limitsWith({ maxConnectionsPerSource: 5 })
    for (let i = 0; i < 5; i++) {
      expect(limits.admitConnection(A)).toBeUndefined()
    }
    expect(limits.admitConnection(A)).toBe('connections-per-source')
    expect(limits.admitConnection(B)).toBeUndefined()
  })

  it('counts every address of one IPv6 /64 against the same source', () => {
    const { limits } = limitsWith({ maxConnectionsPerSource: 2 })
    expect(limits.admitConnection('2001:db8:1:2::1')).toBeUndefined()
    expect(limits.admitConnection('2001:db8:1:2::2')).toBeUndefined()
    expect(limits.admitConnection('2001:db8:1:2:abcd::3')).toBe('connections-per-source')
    expect(limits.admitConnection('2001:db8:1:3::1')).toBeUndefined()
  })

  it('admits a source again once one of its connections closes (and its bucket has a token)', () => {
    const { limits, advance } = limitsWith({ maxConnectionsPerSource: 2 })
    limits.admitConnection(A)
    limits.admitConnection(A)
    advance(1)
    expect(limits.admitConnection(A)).toBe('connections-per-source')
    limits.connectionClosed(A, false)
    expect(limits.admitConnection(A)).toBeUndefined()
  })

  it('refuses any source past the total, until a connection closes', () => {
    const { limits } = limitsWith({ maxConnections: 3 })
    limits.admitConnection(A)
    limits.admitConnection(A)
    limits.admitConnection(B)
    expect(limits.admitConnection(C)).toBe('connections-total')
    limits.connectionClosed(B, true)
    expect(limits.admitConnection(C)).toBeUndefined()
    expect(limits.snapshot()).toMatchObject({ connections: 3, pending: 3 })
  })
})

describe('handshakes in progress', () => {
  it('refuses a source with too many handshakes in progress while another source still connects', () => {
    const { limits } = limitsWith({ maxPendingPerSource: 2 })
    limits.admitConnection(A)
    limits.admitConnection(A)
    expect(limits.admitConnection(A)).toBe('pending-per-source')
    expect(limits.admitConnection(B)).toBeUndefined()
    limits.handshakeEnded(A)
    expect(limits.admitConnection(A)).toBeUndefined()
    expect(limits.snapshot()).toMatchObject({ connections: 4, pending: 3 })
  })

  it('refuses any source past the total pending, until a handshake ends', () => {
    const { limits } = limitsWith({ maxPendingConnections: 2 })
    limits.admitConnection(A)
    limits.admitConnection(B)
    expect(limits.admitConnection(C)).toBe('pending-total')
    limits.handshakeEnded(B)
    expect(limits.admitConnection(C)).toBeUndefined()
  })

  it('frees the pending slot of a connection closed during its handshake, and only then', () => {
    const { limits } = limitsWith({})
    limits.admitConnection(A)
    limits.admitConnection(A)
    limits.handshakeEnded(A)
    limits.connectionClosed(A, false)
    expect(limits.snapshot()).toMatchObject({ connections: 1, pending: 1 })
    limits.connectionClosed(A, true)
    expect(limits.snapshot()).toMatchObject({ connections: 0, pending: 0 })
  })

  it('never counts below zero, nor takes from another source, when told of something it does not know', () => {
    const { limits } = limitsWith({})
    limits.admitConnection(A)
    limits.connectionClosed(B, true)
    limits.handshakeEnded(B)
    limits.releaseReservation(A)
    expect(limits.snapshot()).toMatchObject({ connections: 1, pending: 1, reservations: 0 })
    limits.connectionClosed(A, true)
    limits.connectionClosed(A, true)
    limits.handshakeEnded(A)
    expect(limits.snapshot()).toMatchObject({ connections: 0, pending: 0, reservations: 0 })
  })
})

describe('connection rate', () => {
  it('lets a source burst up to its connection cap, then refill at its own rate, while another source still connects', () => {
    const { limits, advance } = limitsWith({ maxConnectionsPerSource: 4, connectionRate: 10, connectionRatePerSource: 2 })
    for (let i = 0; i < 4; i++) {
      expect(connectAndClose(limits, A)).toBeUndefined()
    }
    expect(connectAndClose(limits, A)).toBe('rate-per-source')
    expect(connectAndClose(limits, B)).toBeUndefined()
    advance(499)
    expect(connectAndClose(limits, A)).toBe('rate-per-source')
    advance(1)
    expect(connectAndClose(limits, A)).toBeUndefined()
    expect(connectAndClose(limits, A)).toBe('rate-per-source')
  })

  it('caps a source\'s burst at one second of the total rate when that is below its connection cap', () => {
    const { limits } = limitsWith({ maxConnectionsPerSource: 10, connectionRate: 2, connectionRatePerSource: 0.1 })
    expect(connectAndClose(limits, A)).toBeUndefined()
    expect(connectAndClose(limits, A)).toBeUndefined()
    expect(connectAndClose(limits, A)).toBe('rate-per-source')
  })

  it('refuses every source once the total rate is spent, and refills it at the total rate', () => {
    const { limits, advance } = limitsWith({ connectionRate: 3 })
    expect(connectAndClose(limits, A)).toBeUndefined()
    expect(connectAndClose(limits, B)).toBeUndefined()
    expect(connectAndClose(limits, C)).toBeUndefined()
    expect(connectAndClose(limits, D)).toBe('rate-total')
    advance(333)
    expect(connectAndClose(limits, A)).toBe('rate-total')
    advance(1)
    expect(connectAndClose(limits, A)).toBeUndefined()
  })

  it('spends no rate token on a connection refused by a cap', () => {
    const { limits } = limitsWith({ maxPendingPerSource: 1, maxConnectionsPerSource: 5, connectionRatePerSource: 0.001 })
    expect(limits.admitConnection(A)).toBeUndefined()
    for (let i = 0; i < 20; i++) {
      expect(limits.admitConnection(A)).toBe('pending-per-source')
    }
    // the burst of five is intact: four more connections, one handshake at a time
    for (let i = 0; i < 4; i++) {
      limits.handshakeEnded(A)
      expect(limits.admitConnection(A)).toBeUndefined()
    }
  })

  // A source that merely retried while the relay as a whole was at its rate must
  // not find its own burst spent once the total has refilled.
  it('spends no token of a source on a connection refused for the total rate', () => {
    const { limits, advance } = limitsWith({ maxConnectionsPerSource: 2, connectionRate: 2, connectionRatePerSource: 1 })
    connectAndClose(limits, A)
    connectAndClose(limits, A)
    expect(connectAndClose(limits, B)).toBe('rate-total')
    expect(connectAndClose(limits, B)).toBe('rate-total')
    advance(500)
    expect(connectAndClose(limits, B)).toBeUndefined()
  })
})

describe('reservations', () => {
  it('refuses a third reservation from one source while another source still reserves', () => {
    const { limits } = limitsWith({ maxReservationsPerSource: 2 })
    expect(limits.reserve(A)).toBeUndefined()
    expect(limits.reserve(A)).toBeUndefined()
    expect(limits.reserve(A)).toBe('reservations-per-source')
    expect(limits.reserve(B)).toBeUndefined()
    limits.releaseReservation(A)
    expect(limits.reserve(A)).toBeUndefined()
  })

  it('refuses any source past the total, until a reservation is released', () => {
    const { limits } = limitsWith({ maxReservations: 2 })
    limits.reserve(A)
    limits.reserve(B)
    expect(limits.reserve(C)).toBe('reservations-total')
    limits.releaseReservation(A)
    expect(limits.reserve(C)).toBeUndefined()
    limits.releaseReservation(D)
    expect(limits.snapshot().reservations).toBe(2)
  })
})

describe('a refused call', () => {
  type Refusal = string | undefined
  const cases: { reason: string, overrides: Partial<Omit<SourceLimitsInit, 'now'>>, setup: (limits: SourceLimits) => void, refused: (limits: SourceLimits) => Refusal }[] = [
    { reason: 'connections-total', overrides: { maxConnections: 1 }, setup: l => l.admitConnection(A), refused: l => l.admitConnection(B) },
    { reason: 'connections-per-source', overrides: { maxConnectionsPerSource: 1 }, setup: l => l.admitConnection(A), refused: l => l.admitConnection(A) },
    { reason: 'pending-total', overrides: { maxPendingConnections: 1 }, setup: l => l.admitConnection(A), refused: l => l.admitConnection(B) },
    { reason: 'pending-per-source', overrides: { maxPendingPerSource: 1 }, setup: l => l.admitConnection(A), refused: l => l.admitConnection(A) },
    { reason: 'rate-per-source', overrides: { maxConnectionsPerSource: 1 }, setup: l => connectAndClose(l, A), refused: l => l.admitConnection(A) },
    { reason: 'rate-total', overrides: { connectionRate: 1 }, setup: l => connectAndClose(l, A), refused: l => l.admitConnection(B) },
    { reason: 'reservations-total', overrides: { maxReservations: 1 }, setup: l => l.reserve(A), refused: l => l.reserve(B) },
    { reason: 'reservations-per-source', overrides: { maxReservationsPerSource: 1 }, setup: l => l.reserve(A), refused: l => l.reserve(A) }
  ]

  it.each(cases)('changes no counts when refused for $reason', ({ reason, overrides, setup, refused }) => {
    const { limits } = limitsWith(overrides)
    setup(limits)
    const { connections, pending, reservations } = limits.snapshot()
    expect(refused(limits)).toBe(reason)
    expect(limits.snapshot()).toMatchObject({ connections, pending, reservations })
  })

  it('leaves nothing behind a scan of many addresses once swept', () => {
    const { limits } = limitsWith({ maxConnections: 1 })
    limits.admitConnection(A)
    for (let i = 0; i < 100; i++) {
      expect(limits.admitConnection(`198.51.100.${i}`)).toBe('connections-total')
    }
    limits.sweep()
    expect(limits.snapshot()).toEqual({ connections: 1, pending: 1, reservations: 0, sources: 1 })
  })
})

describe('forgetting sources', () => {
  it('forgets an idle source only once its bucket has refilled', () => {
    const { limits, advance } = limitsWith({ maxConnectionsPerSource: 5, connectionRate: 10, connectionRatePerSource: 1 })
    connectAndClose(limits, A)
    expect(limits.snapshot().sources).toBe(1)
    advance(999)
    limits.sweep()
    expect(limits.snapshot().sources).toBe(1)
    advance(1)
    limits.sweep()
    expect(limits.snapshot().sources).toBe(0)
  })

  it('keeps a source that holds a connection or a reservation, however long ago it was seen', () => {
    const { limits, advance } = limitsWith({})
    limits.admitConnection(A)
    limits.reserve(B)
    advance(3_600_000)
    limits.sweep()
    expect(limits.snapshot().sources).toBe(2)
    limits.connectionClosed(A, true)
    limits.releaseReservation(B)
    expect(limits.snapshot().sources).toBe(0)
  })
})
