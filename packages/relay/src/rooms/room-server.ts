/**
 * The relay's half of `/lifeline/rooms/1.0.0` (protocols/rooms.proto). A stream
 * opens with one RoomRequest, read with a size cap and a deadline:
 *
 * - JOIN: the peer must hold a reservation here (a member is dialled through the
 *   relay it joined on) and, on a relay with `--auth-public-key`, a token grant
 *   whose rooms cover the topic; its record is checked (records.ts), it gets a
 *   SNAPSHOT and then JOINED/LEFT events for as long as the stream is open. Later
 *   JOINs on the stream with a higher seq update its record, checked against the
 *   connection's latest token again; another topic is refused. Any refusal is one
 *   ERROR and the stream closes, which ends the membership.
 * - LOOKUP: one LOOKUP answer (a Member per relay the peer is reserved on) and the
 *   stream closes.
 */
import { setMaxListeners } from 'node:events'
import { peerIdFromMultihash } from '@libp2p/peer-id'
import { pbStream } from '@libp2p/utils'
import * as Digest from 'multiformats/hashes/digest'
import { RoomEvent, RoomRequest } from './pb/rooms.js'
import { RoomRefusal, isRoomRefusal, verifyMember, type RoomRefusalReason } from './records.js'
import { Subscriber, lengthPrefixed } from './subscriber.js'
import { roomEvent, type Membership, type RoomHub } from './hub.js'
import type { Counters } from '../watch/counters.js'
import type { Connection, Logger, PeerId, Stream } from '@libp2p/interface'

export const ROOMS_PROTOCOL = '/lifeline/rooms/1.0.0'

export interface RoomServerComponents {
  hub: RoomHub
  counters: Counters
  log: Logger
  /** Whether `peer` holds a reservation on this relay. */
  hasReservation(peer: PeerId): boolean
  /** With relay tokens (`--auth-public-key`); undefined lets every connection in every room. */
  authorization?: RoomAuthorization
}

/** What a relay token grants a connection in rooms (serve/auth-server.ts). */
export interface RoomAuthorization {
  /** Whether the connection holds a grant that has not expired. */
  isGranted(connection: Connection): boolean
  /** Whether the connection's latest grant, expired or not, covers room `topic` (lowercase hex). */
  coversRoom(connection: Connection, topic: string): boolean
}

export interface RoomServerInit {
  /** From the stream's opening to its first request. */
  requestTimeoutMs: number
  maxRequestBytes: number
  maxMetadataBytes: number
  subscriberBufferBytes: number
}

type RequestReader = ReturnType<typeof pbStream<Stream>>

export class RoomServer {
  private readonly components: RoomServerComponents
  private readonly init: RoomServerInit
  private readonly shutdown = new AbortController()

  constructor (components: RoomServerComponents, init: RoomServerInit) {
    this.components = components
    this.init = init
    // every JOIN stream listens for shutdown for as long as it is open
    setMaxListeners(Infinity, this.shutdown.signal)
  }

  stop (): void {
    this.shutdown.abort()
  }

  /** The stream handler. */
  async onRooms (stream: Stream, connection: Connection): Promise<void> {
    const pb = pbStream(stream, { maxDataLength: this.init.maxRequestBytes })
    const signal = AbortSignal.any([this.shutdown.signal, AbortSignal.timeout(this.init.requestTimeoutMs)])
    try {
      let request: RoomRequest
      try {
        request = await pb.read(RoomRequest, { signal })
      } catch {
        await this.refuse(stream, new RoomRefusal('malformed', `no RoomRequest of at most ${this.init.maxRequestBytes} bytes arrived in time`), connection)
        return
      }
      if (this.components.authorization?.isGranted(connection) === false) {
        await this.refuse(stream, new RoomRefusal('unauthorized', 'this relay serves rooms only to peers that presented a valid relay token (/lifeline/auth/1.0.0)'), connection)
        return
      }
      if (request.join !== undefined) {
        await this.join(stream, pb, connection, request.join)
      } else if (request.lookup !== undefined) {
        await this.lookup(stream, connection, request.lookup)
      } else {
        await this.refuse(stream, new RoomRefusal('malformed', 'the request is neither a JOIN nor a LOOKUP'), connection)
      }
    } catch (err: unknown) {
      this.components.log.trace('rooms stream of %p failed: %s', connection.remotePeer, err instanceof Error ? err.message : String(err))
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }

  private async join (stream: Stream, pb: RequestReader, connection: Connection, join: RoomRequest.Join): Promise<void> {
    const { hub, counters } = this.components
    if (!this.components.hasReservation(connection.remotePeer)) {
      await this.refuse(stream, new RoomRefusal('no-reservation', 'JOIN needs a reservation on this relay first (Circuit Relay v2 RESERVE): a member is dialled through the relay it joined on'), connection)
      return
    }
    let membership: Membership
    try {
      const verified = await verifyMember(join.member, connection.remotePeer, this.init.maxMetadataBytes)
      this.checkCovered(connection, verified.topic)
      const subscriber = new Subscriber(stream, {
        maxQueuedBytes: this.init.subscriberBufferBytes,
        onCutOff: () => {
          counters.increment('rooms-subscriber-cut-off')
          this.components.log('cut off %p in a room: it did not read its events', connection.remotePeer)
        }
      })
      membership = await hub.join(verified, subscriber)
    } catch (err: unknown) {
      if (isRoomRefusal(err)) {
        await this.refuse(stream, err, connection)
        return
      }
      throw err
    }
    counters.increment('rooms-joined')

    try {
      // a member may stay silent for as long as it is in the room
      for (;;) {
        const request = await pb.read(RoomRequest, { signal: this.shutdown.signal })
        if (request.join === undefined) {
          throw new RoomRefusal('malformed', 'only JOINs may follow a JOIN on its stream')
        }
        const verified = await verifyMember(request.join.member, connection.remotePeer, this.init.maxMetadataBytes)
        if (verified.topic !== membership.topic) {
          throw new RoomRefusal('other-topic', 'a JOIN stream is one room: open another stream for another topic')
        }
        // a token presented since may cover other rooms
        this.checkCovered(connection, verified.topic)
        if (hub.update(membership, verified)) {
          counters.increment('rooms-updated')
        }
      }
    } catch (err: unknown) {
      // the stream ended, the connection went, or a refusal: the membership ends either way
      if (hub.leave(membership)) {
        counters.increment('rooms-left')
      }
      if (isRoomRefusal(err)) {
        await this.refuse(stream, err, connection)
        return
      }
    }
    await this.closeStream(stream)
  }

  private async lookup (stream: Stream, connection: Connection, lookup: RoomRequest.Lookup): Promise<void> {
    let peer: PeerId
    try {
      peer = peerIdFromMultihash(Digest.decode(lookup.peerId))
    } catch {
      await this.refuse(stream, new RoomRefusal('malformed', 'LOOKUP peer_id is not a peer ID multihash'), connection)
      return
    }
    let members
    try {
      members = await this.components.hub.lookup(peer, this.components.hasReservation(peer))
    } catch (err: unknown) {
      if (isRoomRefusal(err)) {
        await this.refuse(stream, err, connection)
        return
      }
      throw err
    }
    this.components.counters.increment('rooms-lookups')
    stream.send(lengthPrefixed(RoomEvent.encode(roomEvent(RoomEvent.Type.LOOKUP, { members }))))
    await this.closeStream(stream)
  }

  /** @throws RoomRefusal `room-not-covered` when the connection's relay token does not list `topic` */
  private checkCovered (connection: Connection, topic: string): void {
    if (this.components.authorization?.coversRoom(connection, topic) === false) {
      throw new RoomRefusal('room-not-covered', 'the relay token does not cover this room: its rooms claim does not list the room\'s topic')
    }
  }

  private async refuse (stream: Stream, refusal: RoomRefusal, connection: Connection): Promise<void> {
    const reason: RoomRefusalReason = refusal.reason
    this.components.counters.increment(`rooms-refused-${reason}`)
    this.components.log('refused a rooms request of %p: %s', connection.remotePeer, reason)
    try {
      stream.send(lengthPrefixed(RoomEvent.encode(roomEvent(RoomEvent.Type.ERROR, { code: refusal.code, message: refusal.message }))))
    } catch {
      // the stream is gone already
    }
    await this.closeStream(stream)
  }

  /** Closes the stream once what was written is sent; one that does not drain in time is reset. */
  private async closeStream (stream: Stream): Promise<void> {
    try {
      await stream.close({ signal: AbortSignal.any([this.shutdown.signal, AbortSignal.timeout(this.init.requestTimeoutMs)]) })
    } catch {
      stream.abort(new Error('rooms stream did not close in time'))
    }
  }
}
