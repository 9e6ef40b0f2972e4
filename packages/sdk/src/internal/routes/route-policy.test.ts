import type { Connection } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { SPARE_ROUTES } from '../../constants.js'
import { parseRelayAddress } from '../util/parse.js'
import { nextRelay, relayedRoutesWanted, relaysCarrying, RouteBackoff } from './route-policy.js'

const R1 = parseRelayAddress('/ip4/10.0.0.1/tcp/4001/ws/p2p/12D3KooWHFrmLWTTDD4NodngtRMEVYtDGW3mcpGXNzJZeRTMM4Aw')
const R2 = parseRelayAddress('/ip4/10.0.0.2/tcp/4001/ws/p2p/12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq')
const R3 = parseRelayAddress('/ip4/10.0.0.3/tcp/4001/ws/p2p/12D3KooWRvKxy16gGU3gmxRSXoaY8xqWEGEvASgS43gR1BSxs4dk')
const id = (r: typeof R1): string => r.peerId.toString()

function circuitThrough (relay: typeof R1): Connection {
  return { direct: false, remoteAddr: multiaddr(`${relay.text}/p2p-circuit`) } as unknown as Connection
}
const direct = { direct: true, remoteAddr: multiaddr('/ip4/10.0.0.9/udp/1/webrtc-direct') } as unknown as Connection

function clock (): { now: number, clock: { now(): number, random(): number } } {
  const c = { now: 0, clock: { now: () => c.now, random: () => 1 } }
  return c
}

describe('relayedRoutesWanted', () => {
  it('has the opener keep one route plus its spares, whatever it holds', () => {
    expect(relayedRoutesWanted({ direction: 'outbound', established: true, paths: 2 })).toBe(1 + SPARE_ROUTES)
    expect(relayedRoutesWanted({ direction: 'outbound', established: false, paths: 0 })).toBe(1 + SPARE_ROUTES)
  })

  it('has the accepting side restore an established link with no path, and keep no spares', () => {
    expect(relayedRoutesWanted({ direction: 'inbound', established: true, paths: 0 })).toBe(1)
    expect(relayedRoutesWanted({ direction: 'inbound', established: true, paths: 1 })).toBe(0)
  })

  it('leaves an accepted link that never completed its handshake alone', () => {
    expect(relayedRoutesWanted({ direction: 'inbound', established: false, paths: 0 })).toBe(0)
  })
})

describe('relaysCarrying', () => {
  it('counts relays, not circuits, and ignores direct paths', () => {
    expect(relaysCarrying([circuitThrough(R1), circuitThrough(R1), direct, circuitThrough(R2)])).toEqual(new Set([id(R1), id(R2)]))
  })
})

describe('nextRelay', () => {
  it('takes the first relay in the ranking that carries nothing, is not being dialled and is not in backoff', () => {
    const c = clock()
    const backoff = new RouteBackoff(c.clock, { baseMs: 1000, maxMs: 10_000 })
    expect(nextRelay([R1, R2, R3], new Set(), new Set(), backoff)).toBe(R1)
    expect(nextRelay([R1, R2, R3], new Set([id(R1)]), new Set(), backoff)).toBe(R2)
    expect(nextRelay([R1, R2, R3], new Set([id(R1)]), new Set([id(R2)]), backoff)).toBe(R3)
    backoff.failed(id(R3))
    expect(nextRelay([R1, R2, R3], new Set([id(R1)]), new Set([id(R2)]), backoff)).toBeUndefined()
  })
})

describe('RouteBackoff', () => {
  it('waits after a failure, doubling while the relay keeps failing, on the injected clock', () => {
    const c = clock()
    const backoff = new RouteBackoff(c.clock, { baseMs: 1000, maxMs: 10_000 })
    backoff.failed(id(R1))
    expect(backoff.retryAt(id(R1))).toBe(1000)
    c.now = 999
    expect(backoff.ready(id(R1))).toBe(false)
    c.now = 1000
    expect(backoff.ready(id(R1))).toBe(true)
    backoff.failed(id(R1))
    expect(backoff.retryAt(id(R1))).toBe(3000)
    expect(backoff.ready(id(R2))).toBe(true)
  })

  it('is capped, and forgets a relay once a route through it succeeds', () => {
    const c = clock()
    const backoff = new RouteBackoff(c.clock, { baseMs: 1000, maxMs: 10_000 })
    for (let i = 0; i < 10; i++) {
      backoff.failed(id(R1))
    }
    expect(backoff.retryAt(id(R1))).toBe(10_000)
    backoff.succeeded(id(R1))
    expect(backoff.ready(id(R1))).toBe(true)
    backoff.failed(id(R1))
    expect(backoff.retryAt(id(R1))).toBe(1000)
  })
})
