import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { beforeAll, describe, expect, it } from 'vitest'
import { SourceLimits, type SourceLimitsInit } from '../guard/source-limits.js'
import { Reservations, type Reservation } from './reservations.js'
import type { PeerId } from '@libp2p/interface'

const A = '203.0.113.1'
const B = '203.0.113.2'
const TTL_SECONDS = 3600
/** Half a second into a second, so a test sees the expiry rounded down to whole seconds. */
const START_MS = 1_700_000_000_500

let alice: PeerId
let bob: PeerId
let carol: PeerId

async function newPeer (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

beforeAll(async () => {
  alice = await newPeer()
  bob = await newPeer()
  carol = await newPeer()
})

function setup (caps: Partial<Pick<SourceLimitsInit, 'maxReservations' | 'maxReservationsPerSource'>> = {}): { reservations: Reservations, limits: SourceLimits, advance: (ms: number) => void } {
  let now = START_MS
  const limits = new SourceLimits({
    maxConnections: 100,
    maxConnectionsPerSource: 100,
    connectionRate: 100,
    connectionRatePerSource: 100,
    maxPendingConnections: 100,
    maxPendingPerSource: 100,
    maxReservations: 100,
    maxReservationsPerSource: 100,
    ...caps
  })
  const reservations = new Reservations({ ttlSeconds: TTL_SECONDS, limits, now: () => now })
  return { reservations, limits, advance: ms => { now += ms } }
}

function granted (result: Reservation | string): Reservation {
  if (typeof result === 'string') {
    throw new Error(`reservation refused: ${result}`)
  }
  return result
}

/** Unix seconds of the expiry of a reservation granted `afterMs` after the start. */
function expiryAt (afterMs: number): bigint {
  return BigInt(Math.floor((START_MS + afterMs) / 1000) + TTL_SECONDS)
}

describe('reservations', () => {
  it('grants a reservation until the TTL from now, in whole Unix seconds, and counts it against its source', () => {
    const { reservations, limits } = setup()
    const reservation = granted(reservations.reserve(alice, A))
    expect(reservation).toEqual({ peer: alice, address: A, expire: expiryAt(0) })
    expect(reservations.get(alice)).toBe(reservation)
    expect(reservations.has(alice)).toBe(true)
    expect(reservations.has(bob)).toBe(false)
    expect(reservations.size).toBe(1)
    expect(limits.snapshot().reservations).toBe(1)
  })

  it('refreshes a reservation from the same address with a later expiry, counting it once', () => {
    const { reservations, limits, advance } = setup({ maxReservationsPerSource: 1 })
    granted(reservations.reserve(alice, A))
    advance(60_000)
    expect(granted(reservations.reserve(alice, A)).expire).toBe(expiryAt(60_000))
    expect(reservations.size).toBe(1)
    expect(limits.snapshot().reservations).toBe(1)
  })

  it('moves the count to the new source when a peer refreshes from another address', () => {
    const { reservations, limits } = setup({ maxReservationsPerSource: 1 })
    granted(reservations.reserve(alice, A))
    expect(granted(reservations.reserve(alice, B)).address).toBe(B)
    expect(limits.snapshot().reservations).toBe(1)
    // A's slot is free again, B's is taken
    expect(granted(reservations.reserve(bob, A)).address).toBe(A)
    expect(reservations.reserve(carol, B)).toBe('reservations-per-source')
  })

  it('lets a peer at its source\'s cap refresh from another address of the same /64', () => {
    const { reservations, limits } = setup({ maxReservationsPerSource: 1 })
    granted(reservations.reserve(alice, '2001:db8:1:2::1'))
    expect(granted(reservations.reserve(alice, '2001:db8:1:2::2')).address).toBe('2001:db8:1:2::2')
    expect(limits.snapshot().reservations).toBe(1)
  })

  it('passes a per-source refusal through and holds nothing for the refused peer, while another source still reserves', () => {
    const { reservations, limits } = setup({ maxReservationsPerSource: 1 })
    granted(reservations.reserve(alice, A))
    expect(reservations.reserve(bob, A)).toBe('reservations-per-source')
    expect(reservations.has(bob)).toBe(false)
    expect(reservations.size).toBe(1)
    granted(reservations.reserve(bob, B))
    expect(limits.snapshot().reservations).toBe(2)
  })

  it('passes a total refusal through', () => {
    const { reservations } = setup({ maxReservations: 1 })
    granted(reservations.reserve(alice, A))
    expect(reservations.reserve(bob, B)).toBe('reservations-total')
    expect(reservations.has(bob)).toBe(false)
  })

  // A refused request must change nothing: the peer, told only "refused", would
  // otherwise be unreachable on the connection it still holds.
  it('keeps the reservation a peer holds when its refresh from another source is refused', () => {
    const { reservations, limits } = setup({ maxReservationsPerSource: 1 })
    const held = granted(reservations.reserve(alice, A))
    granted(reservations.reserve(bob, B))
    expect(reservations.reserve(alice, B)).toBe('reservations-per-source')
    expect(reservations.get(alice)).toBe(held)
    expect(limits.snapshot().reservations).toBe(2)
  })
})

describe('expiry', () => {
  it('drops a reservation when it is looked up at its expiry, not a millisecond before, and frees its slot', () => {
    const { reservations, limits, advance } = setup({ maxReservationsPerSource: 1 })
    granted(reservations.reserve(alice, A))
    // granted at .500 of a second: the expiry, in whole seconds, comes 500 ms early
    advance(TTL_SECONDS * 1000 - 501)
    expect(reservations.has(alice)).toBe(true)
    advance(1)
    expect(reservations.get(alice)).toBeUndefined()
    expect(reservations.size).toBe(0)
    expect(limits.snapshot().reservations).toBe(0)
    granted(reservations.reserve(bob, A))
  })

  it('sweeps only expired reservations, says how many, and frees their slots', () => {
    const { reservations, limits, advance } = setup()
    granted(reservations.reserve(alice, A))
    granted(reservations.reserve(bob, B))
    advance(10_000)
    granted(reservations.reserve(carol, A))
    expect(reservations.sweep()).toBe(0)
    advance(TTL_SECONDS * 1000 - 10_000)
    expect(reservations.size).toBe(3)
    expect(reservations.sweep()).toBe(2)
    expect(reservations.size).toBe(1)
    expect(reservations.has(carol)).toBe(true)
    expect(limits.snapshot().reservations).toBe(1)
  })

  it('counts a refresh from its own time, so a refreshed reservation outlives the first TTL', () => {
    const { reservations, advance } = setup()
    granted(reservations.reserve(alice, A))
    advance(TTL_SECONDS * 500)
    granted(reservations.reserve(alice, A))
    advance(TTL_SECONDS * 500)
    expect(reservations.sweep()).toBe(0)
    expect(reservations.has(alice)).toBe(true)
  })
})

describe('dropping reservations', () => {
  it('drops one peer\'s reservation, frees its slot, and says whether there was one', () => {
    const { reservations, limits } = setup({ maxReservationsPerSource: 1 })
    granted(reservations.reserve(alice, A))
    granted(reservations.reserve(bob, B))
    expect(reservations.drop(alice)).toBe(true)
    expect(reservations.drop(alice)).toBe(false)
    expect(reservations.has(alice)).toBe(false)
    expect(reservations.has(bob)).toBe(true)
    expect(limits.snapshot().reservations).toBe(1)
    granted(reservations.reserve(carol, A))
  })

  it('clears every reservation and every slot they held', () => {
    const { reservations, limits } = setup()
    granted(reservations.reserve(alice, A))
    granted(reservations.reserve(bob, B))
    granted(reservations.reserve(carol, undefined))
    reservations.clear()
    expect(reservations.size).toBe(0)
    expect(limits.snapshot()).toMatchObject({ reservations: 0, sources: 0 })
  })
})
