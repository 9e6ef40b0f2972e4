/**
 * A room against fake relays: each relay is the far end of an in-memory stream pair
 * that the test writes RoomEvents into, as a relay would (or as a hostile one would).
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Connection, PrivateKey, Stream } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { lpStream, streamPair } from '@libp2p/utils'
import { afterEach, describe, expect, it } from 'vitest'
import { codeOf } from '../../../test/support.js'
import { MAX_ROOM_EVENT_BYTES } from '../../constants.js'
import type { Link } from '../../types.js'
import { parseRelayAddress, type RelayAddress } from '../util/parse.js'
import { RoomEvent, RoomRequest, type Member } from './pb/rooms.js'
import { signMember } from './records.js'
import { RoomImpl, type HeldRelay } from './room.js'
import { topicBytes } from './topic.js'

const R1 = parseRelayAddress('/ip4/10.0.0.1/tcp/4001/ws/p2p/12D3KooWHFrmLWTTDD4NodngtRMEVYtDGW3mcpGXNzJZeRTMM4Aw')
const R2 = parseRelayAddress('/ip4/10.0.0.2/tcp/4001/ws/p2p/12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq')

/** The relay's end of one JOIN stream. */
class FakeRelayStream {
  readonly stream: Stream
  private readonly lp

  constructor (stream: Stream) {
    this.stream = stream
    this.lp = lpStream(stream, { maxDataLength: MAX_ROOM_EVENT_BYTES * 2 })
  }

  async request (): Promise<RoomRequest> {
    return RoomRequest.decode(await this.lp.read())
  }

  async send (event: Partial<RoomEvent> & Pick<RoomEvent, 'type'>): Promise<void> {
    await this.lp.write(RoomEvent.encode({ members: [], peerId: new Uint8Array(), relayId: new Uint8Array(), code: RoomEvent.ErrorCode.NONE, message: '', partial: false, ...event }))
  }

  sendRaw (bytes: Uint8Array): void {
    this.lp.unwrap().send(bytes)
  }
}

class Harness {
  held: HeldRelay[]
  readonly relayStreams = new Map<string, FakeRelayStream[]>()
  readonly waiting = new Map<string, Array<(s: FakeRelayStream) => void>>()
  room!: RoomImpl
  key!: PrivateKey
  topic!: Uint8Array

  constructor (relays: RelayAddress[]) {
    this.held = relays.map(relay => ({ relay, connection: { id: relay.text } as unknown as Connection }))
  }

  async start (): Promise<void> {
    this.key = await generateKeyPair('Ed25519')
    this.topic = topicBytes('test', 'chat')
    this.room = new RoomImpl({ name: 'chat', topic: this.topic, metadata: new Uint8Array(), autoConnect: false }, {
      self: peerIdFromPrivateKey(this.key),
      sign: async fields => signMember(this.key, peerIdFromPrivateKey(this.key), fields),
      held: () => this.held,
      newStream: async connection => {
        const [ours, theirs] = await streamPair()
        const relay = new FakeRelayStream(theirs)
        const id = (connection as unknown as { id: string }).id
        this.relayStreams.set(id, [...(this.relayStreams.get(id) ?? []), relay])
        this.waiting.get(id)?.splice(0).forEach(resolve => { resolve(relay) })
        return ours
      },
      connect: async () => Promise.reject(new Error('no links here')),
      link: () => undefined as Link | undefined,
      now: () => Date.now(),
      random: () => 1,
      log: logger('test:room'),
      onLeft: () => {},
      onChange: () => {}
    })
    await this.room.start()
  }

  /** The newest JOIN stream to `relay`, once it is open. */
  async stream (relay: RelayAddress, nth = 1): Promise<FakeRelayStream> {
    const streams = this.relayStreams.get(relay.text) ?? []
    const found = streams[nth - 1]
    if (found !== undefined) {
      return found
    }
    return new Promise(resolve => {
      this.waiting.set(relay.text, [...(this.waiting.get(relay.text) ?? []), s => {
        if ((this.relayStreams.get(relay.text) ?? []).length === nth) {
          resolve(s)
        }
      }])
    })
  }
}

const rooms: RoomImpl[] = []
afterEach(async () => {
  await Promise.all(rooms.splice(0).map(async room => { await room.leave() }))
})

async function harness (relays: RelayAddress[]): Promise<Harness> {
  const h = new Harness(relays)
  await h.start()
  rooms.push(h.room)
  return h
}

/** A member's record as a relay lists it: signed by `key` (its own unless told), held on `relay`. */
async function memberOf (key: PrivateKey, topic: Uint8Array, relay: RelayAddress, metadata = 'm', signer = key): Promise<Member> {
  const signed = await signMember(signer, peerIdFromPrivateKey(key), { topic, metadata: new TextEncoder().encode(metadata), seq: 1n })
  return { signed, relayAddrs: [relay.text], relayId: relay.peerId.toMultihash().bytes }
}

describe('a room against its relays', () => {
  it('sends a signed JOIN, resolves at the SNAPSHOT, and drops and counts a record with a bad signature', async () => {
    const h = await harness([R1])
    const relay = await h.stream(R1)
    const join = await relay.request()
    expect(join.join?.member?.record).toBeInstanceOf(Uint8Array)
    const honest = await generateKeyPair('Ed25519')
    const forged = await generateKeyPair('Ed25519')
    await relay.send({
      type: RoomEvent.Type.SNAPSHOT,
      members: [await memberOf(honest, h.topic, R1, 'ok'), await memberOf(forged, h.topic, R1, 'forged', honest)]
    })
    await h.room.joined({})
    expect(h.room.members().map(m => m.peerId)).toEqual([peerIdFromPrivateKey(honest).toString()])
    expect(h.room.status()).toMatchObject({ invalidRecords: 1, relays: [{ peerId: R1.peerId.toString(), state: 'joined' }] })
  })

  it('rejects the first join with ROOM_REFUSED when the relay answers ERROR', async () => {
    const h = await harness([R1])
    const relay = await h.stream(R1)
    await relay.request()
    await relay.send({ type: RoomEvent.Type.ERROR, code: RoomEvent.ErrorCode.LIMIT, message: 'a peer may be in at most 8 rooms' })
    const joining = h.room.joined({})
    expect(await codeOf(joining)).toBe('ROOM_REFUSED')
    await expect(joining).rejects.toThrow('LIMIT: a peer may be in at most 8 rooms')
    expect(h.room.status().relays[0]).toMatchObject({ state: 'down', lastError: 'LIMIT: a peer may be in at most 8 rooms' })
  })

  it('closes a stream that sends garbage, drops that relay\'s view, and joins it again later', async () => {
    const h = await harness([R1])
    const relay = await h.stream(R1)
    await relay.request()
    const member = await generateKeyPair('Ed25519')
    await relay.send({ type: RoomEvent.Type.SNAPSHOT, members: [await memberOf(member, h.topic, R1)] })
    await h.room.joined({})
    expect(h.room.members()).toHaveLength(1)
    // not a RoomEvent: a length prefix and bytes of a wrong wire type
    relay.sendRaw(new Uint8Array([3, 0x0f, 0xff, 0xff]))
    await expect.poll(() => h.room.members()).toEqual([])
    await expect.poll(() => relay.stream.status).not.toBe('open')
    expect(h.room.status().relays[0]?.lastError).toMatch(/garbage/)
    // after the backoff the room joins the relay again on a new stream
    const again = await h.stream(R1, 2)
    expect((await again.request()).join).toBeDefined()
  })

  it('closes a stream whose event is larger than MAX_ROOM_EVENT_BYTES', async () => {
    const h = await harness([R1])
    const relay = await h.stream(R1)
    await relay.request()
    // the room resets the stream while this is still being written
    await relay.send({ type: RoomEvent.Type.SNAPSHOT, message: 'x'.repeat(MAX_ROOM_EVENT_BYTES) }).catch(() => {})
    await expect.poll(() => h.room.status().relays[0]?.lastError).toMatch(/garbage/)
  })

  it('is the union of its relays\' views: a member held by two relays stays until both let it go, and a lost relay takes its view', async () => {
    const h = await harness([R1, R2])
    const [one, two] = [await h.stream(R1), await h.stream(R2)]
    await Promise.all([one.request(), two.request()])
    const b = await generateKeyPair('Ed25519')
    const c = await generateKeyPair('Ed25519')
    const bId = peerIdFromPrivateKey(b).toString()
    const cId = peerIdFromPrivateKey(c).toString()
    await one.send({ type: RoomEvent.Type.SNAPSHOT, members: [await memberOf(b, h.topic, R1)] })
    // R2's directory is away: it lists only its own members, then all of them
    await two.send({ type: RoomEvent.Type.SNAPSHOT, partial: true, members: [await memberOf(c, h.topic, R2)] })
    await expect.poll(() => h.room.members().map(m => m.peerId).sort()).toEqual([bId, cId].sort())
    expect(h.room.status().relays.map(r => r.state).sort()).toEqual(['joined', 'partial'])
    await two.send({ type: RoomEvent.Type.SNAPSHOT, members: [await memberOf(c, h.topic, R2), await memberOf(b, h.topic, R1)] })
    await expect.poll(() => h.room.status().relays.map(r => r.state)).toEqual(['joined', 'joined'])

    const left: string[] = []
    h.room.addEventListener('leave', evt => { left.push(evt.detail.peerId) })
    await one.send({ type: RoomEvent.Type.LEFT, peerId: peerIdFromString(bId).toMultihash().bytes, relayId: R1.peerId.toMultihash().bytes })
    // a JOINED after it on the same stream: once d is in, the LEFT was handled
    const d = await generateKeyPair('Ed25519')
    const dId = peerIdFromPrivateKey(d).toString()
    await one.send({ type: RoomEvent.Type.JOINED, members: [await memberOf(d, h.topic, R1)] })
    await expect.poll(() => h.room.members().map(m => m.peerId)).toContain(dId)
    // R2 still lists b (held by R1): b stays
    expect(left).toEqual([])
    expect(h.room.members().find(m => m.peerId === bId)?.relays).toEqual([R1.peerId.toString()])
    // we lose R2: b and c go with its view
    h.held = h.held.filter(held => held.relay !== R2)
    h.room.reconcile()
    expect(left.sort()).toEqual([bId, cId].sort())
    expect(h.room.status().relays.map(r => r.peerId)).toEqual([R1.peerId.toString()])
  })

  it('sends a newer record on every stream for setMetadata(), and closes them all on leave()', async () => {
    const h = await harness([R1, R2])
    const streams = [await h.stream(R1), await h.stream(R2)]
    const first = await Promise.all(streams.map(async s => s.request()))
    await h.room.setMetadata('renamed')
    const second = await Promise.all(streams.map(async s => s.request()))
    expect(second.map(r => r.join?.member?.record)).not.toEqual(first.map(r => r.join?.member?.record))
    await h.room.leave()
    await h.room.leave()
    // the relay reads the end of the stream, which ends the membership
    for (const s of streams) {
      await expect(s.request()).rejects.toThrow()
    }
    expect(h.room.left).toBe(true)
  })
})
