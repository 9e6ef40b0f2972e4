/**
 * A rooms client for the relay tests: a Node libp2p peer (WebSockets, Noise, Yamux)
 * reserved on a relay, that signs its member records with its own key, joins rooms
 * over /lifeline/rooms/1.0.0 and records every event it reads.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { peerIdFromMultihash } from '@libp2p/peer-id'
import { pbStream } from '@libp2p/utils'
import { webSockets } from '@libp2p/websockets'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import { createHash } from 'node:crypto'
import * as Digest from 'multiformats/hashes/digest'
import { MemberRecord, RoomEvent, RoomRequest, SignedMember, type Member } from '../../src/rooms/pb/rooms.js'
import { MEMBER_SIGNATURE_PREFIX } from '../../src/rooms/records.js'
import { ROOMS_PROTOCOL } from '../../src/rooms/room-server.js'
import type { PeerId, PrivateKey, Stream } from '@libp2p/interface'

/** The Yamux window a test client grants per stream (Yamux's minimum and default). */
export const CLIENT_WINDOW_BYTES = 256 * 1024

/** The topic of a room, as rooms.proto defines it. */
export function topicOf (name: string, namespace = 'test-app'): Uint8Array<ArrayBuffer> {
  return new Uint8Array(createHash('sha256').update(`lifeline-room/v1\0${namespace}\0${name}`).digest())
}

export interface RecordFields {
  topic: Uint8Array<ArrayBuffer>
  metadata?: Uint8Array<ArrayBuffer>
  seq?: bigint
  /** Whom the record names; the signer by default. */
  peerId?: PeerId
}

/** A SignedMember signed by `key` (which need not be the named peer's). */
export async function signMember (key: PrivateKey, fields: RecordFields, named: PeerId): Promise<SignedMember> {
  const record = MemberRecord.encode({
    topic: fields.topic,
    peerId: new Uint8Array((fields.peerId ?? named).toMultihash().bytes),
    metadata: fields.metadata ?? new Uint8Array(),
    seq: fields.seq ?? 1n
  })
  const signature = await key.sign(new Uint8Array([...MEMBER_SIGNATURE_PREFIX, ...record]))
  return { record: new Uint8Array(record), signature: new Uint8Array(signature) }
}

export function peerOf (member: Member): string {
  if (member.signed === undefined) {
    throw new Error('member without a record')
  }
  return peerIdFromMultihash(Digest.decode(MemberRecord.decode(member.signed.record).peerId)).toString()
}

export function metadataOf (member: Member): string {
  if (member.signed === undefined) {
    throw new Error('member without a record')
  }
  return new TextDecoder().decode(MemberRecord.decode(member.signed.record).metadata)
}

export function relayOf (bytes: Uint8Array): string {
  return peerIdFromMultihash(Digest.decode(bytes)).toString()
}

export class RoomPeer {
  readonly node: Libp2p
  readonly key: PrivateKey

  constructor (node: Libp2p, key: PrivateKey) {
    this.node = node
    this.key = key
  }

  get id (): string {
    return this.node.peerId.toString()
  }

  async sign (fields: RecordFields): Promise<SignedMember> {
    return signMember(this.key, fields, this.node.peerId)
  }

  /** Opens a rooms stream to `relayAddr` and sends JOIN with `signed`. */
  async join (relayAddr: string, signed: SignedMember): Promise<RoomSession> {
    const stream = await this.node.dialProtocol(multiaddr(relayAddr), ROOMS_PROTOCOL, { signal: AbortSignal.timeout(20_000) })
    const session = new RoomSession(stream)
    await session.send({ join: { member: signed } })
    session.readAll()
    return session
  }

  /** LOOKUP of `peer` on `relayAddr`: the relay's one answer. */
  async lookup (relayAddr: string, peer: PeerId): Promise<RoomEvent> {
    const signal = AbortSignal.timeout(20_000)
    const stream = await this.node.dialProtocol(multiaddr(relayAddr), ROOMS_PROTOCOL, { signal })
    const pb = pbStream(stream)
    await pb.write({ lookup: { peerId: new Uint8Array(peer.toMultihash().bytes) } }, RoomRequest, { signal })
    const answer = await pb.read(RoomEvent, { signal })
    await stream.close({ signal }).catch(() => {})
    return answer
  }
}

/** One rooms stream and every event read on it. */
export class RoomSession {
  readonly stream: Stream
  readonly events: RoomEvent[] = []
  /** Set once the stream ended (closed, reset or refused). */
  ended = false
  private readonly pb

  constructor (stream: Stream) {
    this.stream = stream
    this.pb = pbStream(stream, { maxDataLength: 4 * 1024 * 1024 })
  }

  async send (request: RoomRequest): Promise<void> {
    await this.pb.write(request, RoomRequest, { signal: AbortSignal.timeout(20_000) })
  }

  readAll (): void {
    void (async () => {
      try {
        for (;;) {
          this.events.push(await this.pb.read(RoomEvent))
        }
      } catch {
        this.ended = true
      }
    })()
  }

  /**
   * Who this stream says is in the room now, `peer/relay` -> metadata: the last
   * SNAPSHOT with every later JOINED and LEFT applied.
   */
  view (): Map<string, string> {
    const view = new Map<string, string>()
    for (const event of this.events) {
      if (event.type === RoomEvent.Type.SNAPSHOT) {
        view.clear()
      }
      if (event.type === RoomEvent.Type.SNAPSHOT || event.type === RoomEvent.Type.JOINED) {
        for (const member of event.members) {
          view.set(`${peerOf(member)}/${relayOf(member.relayId)}`, metadataOf(member))
        }
      } else if (event.type === RoomEvent.Type.LEFT) {
        view.delete(`${relayOf(event.peerId)}/${relayOf(event.relayId)}`)
      }
    }
    return view
  }

  /** The peers of view(), sorted. */
  peers (): string[] {
    return [...this.view().keys()].map(key => key.split('/')[0] ?? '').sort()
  }

  snapshots (): RoomEvent[] {
    return this.events.filter(event => event.type === RoomEvent.Type.SNAPSHOT)
  }

  error (): RoomEvent | undefined {
    return this.events.find(event => event.type === RoomEvent.Type.ERROR)
  }

  async close (): Promise<void> {
    await this.stream.close({ signal: AbortSignal.timeout(20_000) }).catch(() => { this.stream.abort(new Error('closed by the test')) })
  }
}

/** A peer reserved on `relayAddr` (when given), ready to join rooms there. */
export async function startRoomPeer (relayAddr?: string): Promise<RoomPeer> {
  const key = await generateKeyPair('Ed25519')
  const node = await createLibp2p({
    privateKey: key,
    addresses: { listen: relayAddr === undefined ? [] : [`${relayAddr}/p2p-circuit`] },
    transports: [webSockets(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    // a window that does not grow, so a test knows how much a stalled stream takes
    streamMuxers: [yamux({ streamOptions: { initialStreamWindowSize: CLIENT_WINDOW_BYTES, maxStreamWindowSize: CLIENT_WINDOW_BYTES } })],
    connectionGater: { denyDialMultiaddr: () => false },
    services: { identify: identify() }
  })
  if (relayAddr !== undefined) {
    const signal = AbortSignal.timeout(20_000)
    while (!node.getMultiaddrs().some(ma => ma.toString().includes('/p2p-circuit'))) {
      signal.throwIfAborted()
      await new Promise(resolve => setTimeout(resolve, 20))
    }
  }
  return new RoomPeer(node, key)
}
