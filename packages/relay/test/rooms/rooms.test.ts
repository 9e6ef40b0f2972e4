/**
 * Rooms on one relay with its in-memory directory: real libp2p peers reserve, join
 * over /lifeline/rooms/1.0.0 and read each other's arrivals and departures.
 */
import '../../src/node-compat.js'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { RoomEvent } from '../../src/rooms/pb/rooms.js'
import { RelayTestbed } from '../testbed.js'
import { CLIENT_WINDOW_BYTES, metadataOf, relayOf, signMember, startRoomPeer, topicOf, type RoomPeer, type RoomSession } from './room-client.js'
import type { Relay, RelayConfig } from '../../src/index.js'

const bed = new RelayTestbed()
const text = (s: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(s)

beforeEach(async () => { await bed.setUp('lifeline-relay-rooms-') })
afterEach(async () => { await bed.tearDown() })

async function startRelay (config: Partial<RelayConfig> = {}): Promise<{ relay: Relay, addr: string }> {
  const relay = await bed.startRelay(config)
  const [addr] = relay.multiaddrs
  if (addr === undefined) {
    throw new Error('relay reported no address')
  }
  return { relay, addr }
}

/** Waits for `condition` in small steps, for a loop too tight for expect.poll's interval. */
async function until (condition: () => boolean): Promise<void> {
  const signal = AbortSignal.timeout(20_000)
  while (!condition()) {
    signal.throwIfAborted()
    await new Promise(resolve => setTimeout(resolve, 1))
  }
}

async function peer (relayAddr?: string): Promise<RoomPeer> {
  const started = await startRoomPeer(relayAddr)
  bed.peers.push(started.node)
  return started
}

describe('rooms on one relay', () => {
  it('tells members of each other: SNAPSHOT, JOINED, and LEFT when a stream closes or a connection dies', async () => {
    const { relay, addr } = await startRelay()
    const topic = topicOf('lobby')
    const a = await peer(addr)
    const b = await peer(addr)
    const c = await peer(addr)

    const sa = await a.join(addr, await a.sign({ topic, metadata: text('alice') }))
    await expect.poll(() => sa.snapshots().length).toBe(1)
    expect(sa.peers()).toEqual([a.id])
    const [self] = sa.snapshots()[0]?.members ?? []
    expect(self && relayOf(self.relayId)).toBe(relay.peerId)
    expect(self?.relayAddrs).toEqual(relay.multiaddrs)
    expect(sa.snapshots()[0]?.partial).toBe(false)

    const sb = await b.join(addr, await b.sign({ topic, metadata: text('bob') }))
    await expect.poll(() => sb.snapshots().length).toBe(1)
    expect(sb.peers()).toEqual([a.id, b.id].sort())
    await expect.poll(() => sa.peers()).toEqual([a.id, b.id].sort())
    expect(sa.events.at(-1)?.type).toBe(RoomEvent.Type.JOINED)

    const sc = await c.join(addr, await c.sign({ topic, metadata: text('carol') }))
    await expect.poll(() => sa.peers()).toEqual([a.id, b.id, c.id].sort())

    // B closes its stream: leaving
    await sb.close()
    await expect.poll(() => sa.peers()).toEqual([a.id, c.id].sort())
    expect(sa.events.at(-1)?.type).toBe(RoomEvent.Type.LEFT)

    // C's connection dies: leaving too
    c.node.getConnections()[0]?.abort(new Error('killed by the test'))
    await expect.poll(() => sa.peers()).toEqual([a.id])
    await expect.poll(() => sc.ended).toBe(true)
    expect(relay.stats().rooms).toEqual({ members: 1, rooms: 1, directory: 'memory' })
    expect(relay.stats().counters).toMatchObject({ 'rooms-joined': 3, 'rooms-left': 2 })
  })

  it('updates a member\'s metadata on a higher seq and ignores a lower one', async () => {
    const { relay, addr } = await startRelay()
    const topic = topicOf('lobby')
    const a = await peer(addr)
    const b = await peer(addr)
    const sa = await a.join(addr, await a.sign({ topic, metadata: text('alice'), seq: 5n }))
    const sb = await b.join(addr, await b.sign({ topic, metadata: text('bob'), seq: 1n }))
    await expect.poll(() => sa.view().get(`${b.id}/${relay.peerId}`)).toBe('bob')

    await sb.send({ join: { member: await b.sign({ topic, metadata: text('bob, away'), seq: 2n }) } })
    await expect.poll(() => sa.view().get(`${b.id}/${relay.peerId}`)).toBe('bob, away')
    await sb.send({ join: { member: await b.sign({ topic, metadata: text('stale'), seq: 1n }) } })
    await sb.send({ join: { member: await b.sign({ topic, metadata: text('bob, back'), seq: 3n }) } })
    await expect.poll(() => sa.view().get(`${b.id}/${relay.peerId}`)).toBe('bob, back')
    expect(sa.events.filter(e => e.type === RoomEvent.Type.JOINED).map(e => e.members[0] && metadataOf(e.members[0]))).not.toContain('stale')
    expect(relay.stats().counters['rooms-updated']).toBe(2)

    // another topic on the same stream is refused, and ends the membership
    await sb.send({ join: { member: await b.sign({ topic: topicOf('elsewhere'), seq: 4n }) } })
    await expect.poll(() => sb.error()?.code).toBe(RoomEvent.ErrorCode.BAD_REQUEST)
    await expect.poll(() => sa.peers()).toEqual([a.id])
  })

  it('refuses forged, foreign and oversized records and peers without a reservation, and carries on', async () => {
    const { relay, addr } = await startRelay()
    const topic = topicOf('lobby')
    const a = await peer(addr)
    const b = await peer(addr)
    const sa = await a.join(addr, await a.sign({ topic }))
    await expect.poll(() => sa.snapshots().length).toBe(1)

    const refusals: Array<[string, RoomEvent.ErrorCode, () => Promise<RoomSession>]> = [
      // signed by another key
      // names B, signed by another key
      ['signature-invalid', RoomEvent.ErrorCode.BAD_REQUEST, async () => b.join(addr, await signMember(await generateKeyPair('Ed25519'), { topic }, b.node.peerId))],
      // a record naming A, signed by A, sent by B
      ['other-peer', RoomEvent.ErrorCode.BAD_REQUEST, async () => b.join(addr, await a.sign({ topic }))],
      ['metadata-too-large', RoomEvent.ErrorCode.BAD_REQUEST, async () => b.join(addr, await b.sign({ topic, metadata: new Uint8Array(4 * 1024 + 1) }))],
      ['topic-invalid', RoomEvent.ErrorCode.BAD_REQUEST, async () => b.join(addr, await b.sign({ topic: new Uint8Array(31) }))]
    ]
    for (const [reason, code, attempt] of refusals) {
      const session = await attempt()
      await expect.poll(() => session.error()?.code, { message: reason }).toBe(code)
      await expect.poll(() => session.ended).toBe(true)
      expect(relay.stats().counters[`rooms-refused-${reason}` as 'rooms-refused-malformed']).toBe(1)
    }

    // a peer connected but not reserved here cannot be dialled through the relay
    const unreserved = await peer()
    const refused = await unreserved.join(addr, await unreserved.sign({ topic }))
    await expect.poll(() => refused.error()?.code).toBe(RoomEvent.ErrorCode.BAD_REQUEST)
    expect(refused.error()?.message).toMatch(/reservation/)
    expect(relay.stats().counters['rooms-refused-no-reservation']).toBe(1)

    // nothing of it reached A, and the relay still serves
    expect(sa.peers()).toEqual([a.id])
    const sb = await b.join(addr, await b.sign({ topic }))
    await expect.poll(() => sb.peers()).toEqual([a.id, b.id].sort())
    await expect.poll(() => sa.peers()).toEqual([a.id, b.id].sort())
  })

  it('refuses joins past the rooms-per-peer and members-per-room limits with LIMIT', async () => {
    const { relay, addr } = await startRelay({ maxRoomsPerPeer: 2, maxRoomMembers: 2 })
    const a = await peer(addr)
    const b = await peer(addr)
    const c = await peer(addr)
    const first = await a.join(addr, await a.sign({ topic: topicOf('one') }))
    await a.join(addr, await a.sign({ topic: topicOf('two') }))
    const third = await a.join(addr, await a.sign({ topic: topicOf('three') }))
    await expect.poll(() => third.error()?.code).toBe(RoomEvent.ErrorCode.LIMIT)

    await b.join(addr, await b.sign({ topic: topicOf('one') }))
    const full = await c.join(addr, await c.sign({ topic: topicOf('one') }))
    await expect.poll(() => full.error()?.code).toBe(RoomEvent.ErrorCode.LIMIT)
    await expect.poll(() => first.peers()).toEqual([a.id, b.id].sort())
    expect(relay.stats().counters).toMatchObject({ 'rooms-refused-rooms-per-peer': 1, 'rooms-refused-room-members': 1 })
  })

  it('cuts off a member that does not read at its byte bound, and keeps serving the others', async () => {
    const bound = 16 * 1024
    const { relay, addr } = await startRelay({ roomBufferBytes: bound })
    const topic = topicOf('busy')
    const reader = await peer(addr)
    const stalled = await peer(addr)
    const talker = await peer(addr)
    const sr = await reader.join(addr, await reader.sign({ topic }))
    const ss = await stalled.join(addr, await stalled.sign({ topic }))
    await expect.poll(() => ss.snapshots().length).toBe(1)
    // stop granting the relay Yamux window: the stream fills, then the relay's queue
    ss.stream.pause()

    const st = await talker.join(addr, await talker.sign({ topic, seq: 1n }))
    const metadata = new Uint8Array(4 * 1024).fill(0x61)
    // the client's Yamux window and the bound, in 4 KiB updates, twice over
    const updates = Math.ceil((CLIENT_WINDOW_BYTES + bound) / metadata.byteLength) * 2
    for (let seq = 2; seq <= updates && relay.stats().counters['rooms-subscriber-cut-off'] === undefined; seq++) {
      const [readerSaw, talkerSaw] = [sr.events.length, st.events.length]
      await st.send({ join: { member: await talker.sign({ topic, metadata, seq: BigInt(seq) }) } })
      // the members that read keep up (test, relay and peers share one event loop)
      await until(() => sr.events.length > readerSaw && st.events.length > talkerSaw)
    }
    await expect.poll(() => relay.stats().counters['rooms-subscriber-cut-off']).toBe(1)
    await expect.poll(() => ss.ended).toBe(true)
    await expect.poll(() => sr.peers()).toEqual([reader.id, talker.id].sort())
    expect(relay.stats().rooms.members).toBe(2)
  })

  it('answers LOOKUP of a reserved peer with this relay\'s addresses, and of an unknown one with nobody', async () => {
    const { relay, addr } = await startRelay()
    const a = await peer(addr)
    const asker = await peer()
    const found = await asker.lookup(addr, a.node.peerId)
    expect(found.type).toBe(RoomEvent.Type.LOOKUP)
    expect(found.members).toHaveLength(1)
    expect(found.members[0]?.relayAddrs).toEqual(relay.multiaddrs)
    expect(found.members[0] && relayOf(found.members[0].relayId)).toBe(relay.peerId)

    const nobody = await startRoomPeer()
    await nobody.node.stop()
    const missing = await asker.lookup(addr, nobody.node.peerId)
    expect(missing.type).toBe(RoomEvent.Type.LOOKUP)
    expect(missing.members).toEqual([])
    expect(relay.stats().counters['rooms-lookups']).toBe(2)
  })
})
