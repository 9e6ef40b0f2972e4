import { peerIdFromString } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import { HOP_PROTOCOL, STOP_PROTOCOL } from '../serve/hop-server.js'
import { IdleReaper } from './idle-reaper.js'
import type { Connection, ConnectionStatus, PeerId } from '@libp2p/interface'

const NOW = 1_700_000_000_000
const IDLE_MS = 60_000
const ALICE = peerIdFromString('12D3KooWHFrmLWTTDD4NodngtRMEVYtDGW3mcpGXNzJZeRTMM4Aw')
const BOB = peerIdFromString('12D3KooWRvKxy16gGU3gmxRSXoaY8xqWEGEvASgS43gR1BSxs4dk')

interface StubInit {
  ageMs: number
  peer?: PeerId
  status?: ConnectionStatus
  protocols?: string[]
}

/** Every event of a sweep, in order: `close` for onClose, `abort` for Connection.abort. */
type Seen = [kind: 'close' | 'abort', connection: Connection, error?: Error]

function stub (events: Seen[], { ageMs, peer = ALICE, status = 'open', protocols = [] }: StubInit): Connection {
  const fields = {
    status,
    timeline: { open: NOW - ageMs },
    remotePeer: peer,
    streams: protocols.map(protocol => ({ protocol })),
    abort: (err: Error) => { events.push(['abort', connection, err]) }
  }
  // only the fields IdleReaper reads; the one cast from a partial object to Connection
  const connection = fields as unknown as Connection
  return connection
}

function reaperOf (connections: Connection[], events: Seen[], reserved: PeerId[] = [], now = (): number => NOW): IdleReaper {
  return new IdleReaper({
    idleTimeoutMs: IDLE_MS,
    connections: () => connections,
    hasReservation: peer => reserved.some(r => r.equals(peer)),
    onClose: connection => { events.push(['close', connection]) },
    now
  })
}

describe('the idle reaper', () => {
  it('closes a connection past the idle timeout that holds no reservation and no circuit, telling onClose first', () => {
    const events: Seen[] = []
    const idle = stub(events, { ageMs: IDLE_MS + 1 })
    expect(reaperOf([idle], events).sweep()).toBe(1)
    expect(events.map(([kind, connection]) => [kind, connection])).toEqual([['close', idle], ['abort', idle]])
    expect(events[1]?.[2]?.message).toMatch(/idle/)
  })

  it('closes a connection at exactly the timeout and keeps one a millisecond younger', () => {
    const events: Seen[] = []
    const old = stub(events, { ageMs: IDLE_MS })
    const young = stub(events, { ageMs: IDLE_MS - 1 })
    expect(reaperOf([young, old], events).sweep()).toBe(1)
    expect(events.filter(([kind]) => kind === 'abort').map(([, connection]) => connection)).toEqual([old])
  })

  it('keeps an old connection whose peer holds a reservation, while closing another peer\'s', () => {
    const events: Seen[] = []
    const reserved = stub(events, { ageMs: IDLE_MS * 10, peer: ALICE })
    const other = stub(events, { ageMs: IDLE_MS * 10, peer: BOB })
    expect(reaperOf([reserved, other], events, [ALICE]).sweep()).toBe(1)
    expect(events.filter(([kind]) => kind === 'abort').map(([, connection]) => connection)).toEqual([other])
  })

  it('keeps an old connection carrying a HOP or a STOP stream, but not one carrying only other protocols', () => {
    const events: Seen[] = []
    const hop = stub(events, { ageMs: IDLE_MS * 10, protocols: ['/ipfs/id/1.0.0', HOP_PROTOCOL] })
    const stop = stub(events, { ageMs: IDLE_MS * 10, protocols: [STOP_PROTOCOL] })
    const chatter = stub(events, { ageMs: IDLE_MS * 10, protocols: ['/ipfs/id/1.0.0', '/ipfs/ping/1.0.0'] })
    expect(reaperOf([hop, stop, chatter], events).sweep()).toBe(1)
    expect(events.filter(([kind]) => kind === 'abort').map(([, connection]) => connection)).toEqual([chatter])
  })

  it('leaves alone connections that are no longer open', () => {
    const events: Seen[] = []
    const statuses: ConnectionStatus[] = ['closing', 'closed', 'aborted', 'reset']
    const connections = statuses.map(status => stub(events, { ageMs: IDLE_MS * 10, status }))
    expect(reaperOf(connections, events).sweep()).toBe(0)
    expect(events).toEqual([])
  })

  it('closes a connection on a later sweep once it has grown old, asking for the connections afresh each time', () => {
    const events: Seen[] = []
    let now = NOW
    const connections: Connection[] = []
    const reaper = reaperOf(connections, events, [], () => now)
    connections.push(stub(events, { ageMs: 0 }))
    expect(reaper.sweep()).toBe(0)
    now += IDLE_MS
    expect(reaper.sweep()).toBe(1)
    expect(events.map(([kind]) => kind)).toEqual(['close', 'abort'])
  })

  it('counts the idle time from when a connection last carried a circuit, not from when it opened', () => {
    const events: Seen[] = []
    let now = NOW
    const streams = [{ protocol: HOP_PROTOCOL }]
    const old = stub(events, { ageMs: IDLE_MS * 10 })
    ;(old as unknown as { streams: Array<{ protocol: string }> }).streams = streams
    const reaper = reaperOf([old], events, [], () => now)
    expect(reaper.sweep()).toBe(0)
    // the circuit ends: a connection an hour old is still not idle yet
    streams.length = 0
    now += IDLE_MS - 1
    expect(reaper.sweep()).toBe(0)
    now += 1
    expect(reaper.sweep()).toBe(1)
  })
})
