/**
 * One room member of `pnpm bench:rooms`: a lite libp2p client (../lite-client.ts:
 * WebSocket, Noise, Yamux, nothing else) that reserves a slot on its relay (HOP
 * RESERVE), then joins one room over /lifeline/rooms/1.0.0 with a member record
 * signed by its own Ed25519 key, as the SDK does, and keeps its view of the room
 * from the SNAPSHOT, JOINED and LEFT events it reads. The wire format is the relay's
 * own build of protocols/rooms.proto.
 *
 * Every event is handed, with the time it arrived, to the worker's listener, which
 * times what it is waiting for (worker.ts).
 */
import { createHash, sign } from 'node:crypto'
// the relay's own build of its codecs and protocol IDs (see ../../tsconfig.json for the path)
import { HopMessage, Status } from '../../../dist/serve/pb/circuit.js'
import { MemberRecord, RoomEvent, RoomRequest, type Member } from '../../../dist/rooms/pb/rooms.js'
import { MEMBER_SIGNATURE_PREFIX } from '../../../dist/rooms/records.js'
import { ROOMS_PROTOCOL } from '../../../dist/rooms/room-server.js'
import { hop, statusName } from '../client-tools.js'
import { LiteConnection, lengthPrefixed, type LiteStream } from '../lite-client.js'
import { createIdentity, type Identity } from '../noise.js'
import { MAX_EVENT_BYTES, METADATA_BYTES } from './constants.js'
import type { MemberSpec } from './messages.js'

/** What a member tells the worker. */
export interface MemberListener {
  /** An event read on the member's JOIN stream, `at` being performance.now() when its bytes arrived. */
  onEvent(member: RoomMember, event: RoomEvent, at: number): void
  /** The JOIN stream ended without the member leaving: cut off, reset, or the connection was lost. */
  onStreamLost(member: RoomMember, err: Error | undefined): void
}

/** The relay answered RESERVE with something other than OK, or JOIN with an ERROR. */
export class RefusedError extends Error {
  override name = 'RefusedError'

  constructor (readonly kind: string, message: string) {
    super(message)
  }
}

/** The topic of a room, as rooms.proto defines it. */
export function topicOf (namespace: string, name: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(createHash('sha256').update(`lifeline-room/v1\0${namespace}\0${name}`).digest())
}

/** A peer ID multihash as the workers key members: lowercase hex. */
export function keyOf (peerId: Uint8Array): string {
  return Buffer.from(peerId.buffer, peerId.byteOffset, peerId.byteLength).toString('hex')
}

/** The peer a Member's signed record names, as keyOf gives it; undefined for a record that does not decode. */
export function memberKey (member: Member): string | undefined {
  if (member.signed === undefined) {
    return undefined
  }
  try {
    return keyOf(MemberRecord.decode(member.signed.record).peerId)
  } catch {
    return undefined
  }
}

/** Varint-length-prefixed messages out of a byte stream, each at most MAX_EVENT_BYTES. */
class MessageReader {
  private buffered: Buffer = Buffer.alloc(0)

  /** Adds `data` and returns every message it completed. */
  push (data: Buffer): Buffer[] {
    this.buffered = this.buffered.byteLength === 0 ? data : Buffer.concat([this.buffered, data])
    const messages: Buffer[] = []
    for (;;) {
      let length = 0
      let scale = 1
      let headerBytes = 0
      for (let i = 0; i < Math.min(this.buffered.byteLength, 5); i++) {
        const byte = this.buffered[i] ?? 0
        length += (byte & 0x7f) * scale
        scale *= 0x80
        if (byte < 0x80) {
          headerBytes = i + 1
          break
        }
      }
      if (headerBytes === 0) {
        return messages
      }
      if (length > MAX_EVENT_BYTES) {
        throw new Error(`a room event of ${length} bytes, more than the ${MAX_EVENT_BYTES} accepted`)
      }
      if (this.buffered.byteLength < headerBytes + length) {
        return messages
      }
      messages.push(this.buffered.subarray(headerBytes, headerBytes + length))
      this.buffered = this.buffered.subarray(headerBytes + length)
    }
  }
}

export class RoomMember {
  readonly identity: Identity = createIdentity()
  readonly key = keyOf(this.identity.peerId)
  connection: LiteConnection | undefined
  /** True from its SNAPSHOT until its stream ends. */
  joined = false
  /** Everyone this member's events say is in the room now (itself included), by key. */
  readonly view = new Set<string>()
  private stream: LiteStream | undefined
  private snapshot: PromiseWithResolvers<void> | undefined
  /** Set when the member itself ends its stream (leave or kill): the end is not a loss. */
  private leaving = false
  private seq = 0n
  private readonly metadata: Uint8Array<ArrayBuffer>

  constructor (readonly spec: MemberSpec, private readonly url: string, readonly topic: Uint8Array<ArrayBuffer>, private readonly listener: MemberListener) {
    this.metadata = new TextEncoder().encode(`bench member ${this.key.slice(-8)}`.padEnd(METADATA_BYTES, '.').slice(0, METADATA_BYTES))
  }

  get connected (): boolean {
    return this.connection?.open === true
  }

  /**
   * Dials the member's relay from its source address and reserves a slot.
   *
   * @throws RefusedError when the relay answers RESERVE with other than OK
   */
  async connect (signal: AbortSignal): Promise<void> {
    const connection = await LiteConnection.open(this.url, this.identity, signal, { localAddress: this.spec.source })
    this.connection = connection
    try {
      const { reply, stream } = await hop(connection, { type: HopMessage.Type.RESERVE }, signal)
      if (reply.status !== Status.OK) {
        throw new RefusedError(`reserve refused: ${statusName(reply)}`, `the relay answered RESERVE with ${statusName(reply)}`)
      }
      // the relay closes its side after the answer; the reservation lives on with the connection
      stream.closeWrite()
    } catch (err: unknown) {
      connection.close()
      throw err
    }
  }

  /**
   * Opens a JOIN stream and sends JOIN, calling `beforeSend` just before the JOIN
   * goes out; resolves when the member's SNAPSHOT arrived.
   *
   * @throws RefusedError when the relay answers with an ERROR event
   */
  async join (signal: AbortSignal, beforeSend?: () => void): Promise<void> {
    const connection = this.connection
    if (connection === undefined || !connection.open) {
      throw new Error('join without a connection')
    }
    const stream = await connection.openStream(ROOMS_PROTOCOL, signal)
    this.stream = stream
    this.leaving = false
    this.view.clear()
    this.seq++
    const snapshot: PromiseWithResolvers<void> = Promise.withResolvers()
    // settled by the events or the stream's end, awaited below unless opening failed
    snapshot.promise.catch(() => {})
    this.snapshot = snapshot
    const reader = new MessageReader()
    stream.onClose = (err) => { this.onStreamEnd(stream, err) }
    stream.deliverTo((data) => {
      const at = performance.now()
      try {
        for (const message of reader.push(data)) {
          this.onEvent(RoomEvent.decode(message), at)
        }
      } catch (err: unknown) {
        stream.reset()
        this.onStreamEnd(stream, err instanceof Error ? err : new Error(String(err)))
      }
    })
    const record = MemberRecord.encode({ topic: this.topic, peerId: this.identity.peerId, metadata: this.metadata, seq: this.seq })
    const signature = sign(null, Buffer.concat([MEMBER_SIGNATURE_PREFIX, record]), this.identity.signingKey)
    const request = lengthPrefixed(RoomRequest.encode({ join: { member: { record, signature: new Uint8Array(signature) } } }))
    beforeSend?.()
    stream.writeAll(request)
    const onAbort = (): void => { snapshot.reject(new Error('no SNAPSHOT in time')) }
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      await snapshot.promise
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
  }

  /** Leaves by closing the JOIN stream (half-close: the relay closes its side). */
  leave (): void {
    this.leaving = true
    this.joined = false
    this.stream?.closeWrite()
  }

  /** Ends the connection at once, as a crash would: the socket closes with no goodbye on any stream. */
  kill (): void {
    this.leaving = true
    this.joined = false
    this.connection?.close()
  }

  private onEvent (event: RoomEvent, at: number): void {
    switch (event.type) {
      case RoomEvent.Type.SNAPSHOT:
        this.view.clear()
        for (const member of event.members) {
          const key = memberKey(member)
          if (key !== undefined) {
            this.view.add(key)
          }
        }
        if (!this.joined && !this.leaving) {
          this.joined = true
          this.snapshot?.resolve()
        }
        break
      case RoomEvent.Type.JOINED:
        for (const member of event.members) {
          const key = memberKey(member)
          if (key !== undefined) {
            this.view.add(key)
          }
        }
        break
      case RoomEvent.Type.LEFT:
        this.view.delete(keyOf(event.peerId))
        break
      case RoomEvent.Type.ERROR:
        this.snapshot?.reject(new RefusedError(`join refused: ${event.code}`, event.message))
        break
      default:
        break
    }
    this.listener.onEvent(this, event, at)
  }

  private onStreamEnd (stream: LiteStream, err: Error | undefined): void {
    if (stream !== this.stream) {
      return
    }
    this.stream = undefined
    const lost = !this.leaving
    this.joined = false
    this.view.clear()
    this.snapshot?.reject(err ?? new Error('the JOIN stream closed before its SNAPSHOT'))
    if (lost) {
      this.listener.onStreamLost(this, err)
    }
  }
}
