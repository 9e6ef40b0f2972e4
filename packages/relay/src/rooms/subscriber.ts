/**
 * The relay's side of one JOIN stream as a reader of events: RoomEvents written as
 * varint-length-prefixed protobufs, with what the stream does not accept yet (its
 * Yamux window is spent) queued here up to a byte bound. A subscriber that does
 * not read is cut off at the bound: its stream is reset, which ends its
 * membership, so a peer can never make the relay hold more than the bound for it.
 */
import { RoomEvent } from './pb/rooms.js'
import type { Stream } from '@libp2p/interface'

export interface SubscriberInit {
  /** Bytes queued beyond what the stream accepted; past it the subscriber is cut off. */
  maxQueuedBytes: number
  /** Told once when the subscriber is cut off. */
  onCutOff: () => void
}

export class Subscriber {
  readonly stream: Stream
  private readonly init: SubscriberInit
  private readonly queue: Uint8Array[] = []
  private queuedBytes = 0
  private waitingForDrain = false
  private closed = false
  /** False until its first SNAPSHOT was sent: events before it are in that SNAPSHOT. */
  ready = false

  constructor (stream: Stream, init: SubscriberInit) {
    this.stream = stream
    this.init = init
  }

  get isClosed (): boolean {
    return this.closed
  }

  /** Queues `event` for sending; a SNAPSHOT replaces whatever is still queued, as it says all of it again. */
  send (event: RoomEvent): void {
    if (this.closed) {
      return
    }
    if (event.type === RoomEvent.Type.SNAPSHOT) {
      this.queue.length = 0
      this.queuedBytes = 0
    }
    const bytes = lengthPrefixed(RoomEvent.encode(event))
    if (!this.waitingForDrain) {
      this.write(bytes)
      return
    }
    this.queue.push(bytes)
    this.queuedBytes += bytes.byteLength
    if (this.queuedBytes > this.init.maxQueuedBytes) {
      this.closed = true
      this.queue.length = 0
      this.queuedBytes = 0
      this.stream.abort(new Error(`the subscriber did not read: more than ${this.init.maxQueuedBytes} bytes of room events queued`))
      this.init.onCutOff()
    }
  }

  /** Sends nothing more; whatever is queued is dropped. */
  close (): void {
    this.closed = true
    this.queue.length = 0
    this.queuedBytes = 0
  }

  /** Hands `bytes` to the stream; false when it takes no more until it drains (or is gone). */
  private write (bytes: Uint8Array): boolean {
    let more: boolean
    try {
      more = this.stream.send(bytes)
    } catch {
      // the stream closed under us: the JOIN loop sees it and ends the membership
      this.close()
      return false
    }
    if (!more) {
      this.waitingForDrain = true
      this.stream.onDrain().then(() => { this.flush() }, () => { this.close() })
    }
    return more
  }

  private flush (): void {
    this.waitingForDrain = false
    let more = true
    while (more && !this.closed) {
      const next = this.queue.shift()
      if (next === undefined) {
        return
      }
      this.queuedBytes -= next.byteLength
      more = this.write(next)
    }
  }
}

/** `bytes` behind its unsigned varint length, as every message of the protocol travels. */
export function lengthPrefixed (bytes: Uint8Array): Uint8Array {
  const prefix: number[] = []
  let length = bytes.byteLength
  while (length >= 0x80) {
    prefix.push((length & 0x7f) | 0x80)
    length >>>= 7
  }
  prefix.push(length)
  const out = new Uint8Array(prefix.length + bytes.byteLength)
  out.set(prefix)
  out.set(bytes, prefix.length)
  return out
}
