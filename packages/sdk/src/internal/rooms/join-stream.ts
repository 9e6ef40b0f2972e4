/**
 * One JOIN stream to one relay (protocols/rooms.proto): this peer's signed record
 * goes out, then the relay's SNAPSHOT and JOINED/LEFT events are read for as long as
 * the stream is open, each handed to the room in order. Every read is bounded
 * (MAX_ROOM_EVENT_BYTES, MAX_ROOM_MEMBERS per event); anything that is not the
 * protocol (an undecodable or oversized event, a LOOKUP answer, an event before the
 * SNAPSHOT) ends the stream as `garbage`. The stream is the membership: closing it
 * is leaving this relay's view of the room.
 */
import type { Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { MAX_RELAY_ADDRS_READ, MAX_ROOM_EVENT_BYTES, MAX_ROOM_MEMBERS, MAX_ROOM_REFUSAL_CHARS } from '../../constants.js'
import { RoomEvent, RoomRequest, type Member, type SignedMember } from './pb/rooms.js'
import { peerIdFromBytes } from './records.js'

/** What the room does with the relay's events. */
export interface JoinHandlers {
  snapshot(members: Member[], partial: boolean): Promise<void>
  joined(members: Member[]): Promise<void>
  left(peerId: string, relayId: string): void
}

/** How a JOIN stream ended. */
export type JoinEnd =
  /** The relay answered ERROR: its code (`LIMIT`, ...) and message. */
  | { kind: 'refused', code: string, message: string }
  /** The relay sent something that is not the protocol. */
  | { kind: 'garbage', detail: string }
  /** The stream or connection closed (relay gone, cut off, reset). */
  | { kind: 'closed', detail: string }
  /** We closed it (left, relay dropped). */
  | { kind: 'aborted' }

export function describeJoinEnd (end: JoinEnd): string {
  switch (end.kind) {
    case 'refused': return `${end.code}: ${end.message}`
    case 'garbage': return `the relay sent garbage (${end.detail}); stream closed`
    case 'closed': return `stream closed (${end.detail})`
    case 'aborted': return 'left'
  }
}

export class JoinStream {
  private readonly stream: Stream
  private readonly lp: ReturnType<typeof lpStream<Stream>>
  private readonly signal: AbortSignal

  constructor (stream: Stream, signal: AbortSignal) {
    this.stream = stream
    this.signal = signal
    this.lp = lpStream(stream, { maxDataLength: MAX_ROOM_EVENT_BYTES })
  }

  /** Send a JOIN (the first, or a newer record of the same room). */
  async send (member: SignedMember): Promise<void> {
    await this.lp.write(RoomRequest.encode({ join: { member } }), { signal: this.signal })
  }

  /** Read events until the stream ends; never throws. */
  async run (handlers: JoinHandlers): Promise<JoinEnd> {
    let snapshotSeen = false
    for (;;) {
      let bytes
      try {
        bytes = await this.lp.read({ signal: this.signal })
      } catch (err: unknown) {
        return this.ended(err)
      }
      let event: RoomEvent
      try {
        event = RoomEvent.decode(bytes, { limits: { members: MAX_ROOM_MEMBERS, members$: { relayAddrs: MAX_RELAY_ADDRS_READ } } })
      } catch (err: unknown) {
        return this.garbage(`an event that does not decode: ${printable(err instanceof Error ? err.message : String(err))}`)
      }
      if (event.type === RoomEvent.Type.ERROR) {
        this.close()
        return { kind: 'refused', code: event.code, message: printable(event.message) }
      }
      if (event.type === RoomEvent.Type.SNAPSHOT) {
        snapshotSeen = true
        await handlers.snapshot(event.members, event.partial)
      } else if (!snapshotSeen) {
        return this.garbage(`${event.type} before the SNAPSHOT`)
      } else if (event.type === RoomEvent.Type.JOINED) {
        await handlers.joined(event.members)
      } else if (event.type === RoomEvent.Type.LEFT) {
        const peer = peerIdFromBytes(event.peerId)
        const relay = peerIdFromBytes(event.relayId)
        if (peer === undefined || relay === undefined) {
          return this.garbage('a LEFT without peer and relay IDs')
        }
        handlers.left(peer.toString(), relay.toString())
      } else {
        return this.garbage(`an event of type ${event.type} on a JOIN stream`)
      }
      if (this.signal.aborted) {
        return { kind: 'aborted' }
      }
    }
  }

  /** Close for good (leaving): the relay sees the stream end, which ends the membership. */
  close (): void {
    this.stream.close().catch((err: unknown) => { this.stream.abort(err instanceof Error ? err : new Error(String(err))) })
  }

  private garbage (detail: string): JoinEnd {
    this.stream.abort(new Error(`rooms protocol violation: ${detail}`))
    return { kind: 'garbage', detail }
  }

  private ended (err: unknown): JoinEnd {
    if (this.signal.aborted) {
      return { kind: 'aborted' }
    }
    const name = err instanceof Error ? err.name : ''
    const message = err instanceof Error ? err.message : String(err)
    // a length prefix past MAX_ROOM_EVENT_BYTES, or one that is not a varint
    if (name === 'InvalidDataLengthError' || name === 'InvalidDataLengthLengthError') {
      return this.garbage(printable(message))
    }
    this.stream.abort(err instanceof Error ? err : new Error(message))
    return { kind: 'closed', detail: printable(message) }
  }
}

/** A relay's text goes into status and errors: printable and short. */
function printable (text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what is removed
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '').slice(0, MAX_ROOM_REFUSAL_CHARS)
  return clean === '' ? 'no message given' : clean
}
