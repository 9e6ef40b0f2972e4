/**
 * Exactly-once, in-order delivery over paths that may die, with flow control in bytes:
 * the sender numbers every message and keeps it until the receiver acknowledges it;
 * after a path change the unacknowledged rest is sent again on the new path, and the
 * receiver drops what it has already delivered and holds back what arrives early.
 *
 * The receiver acknowledges a message only once the application has taken it, and
 * announces a receive window: the bytes it will hold for the application (delivered
 * but not yet taken, and arrived early). A sender keeps its unacknowledged bytes within
 * that window, so a slow application slows its sender; a sender that ignores the
 * window is refused with PROTOCOL_ERROR before the receiver holds more than it
 * announced. Bytes are counted with MESSAGE_OVERHEAD_BYTES per message on both sides,
 * so a flood of empty messages is bounded too. Pure state, no I/O.
 */
import { MESSAGE_OVERHEAD_BYTES } from '../../constants.js'
import { LifelineError } from '../../errors.js'
import { Fifo } from '../util/fifo.js'

/** What one message counts against a window: its payload and its bookkeeping. */
export function messageCost (payloadBytes: number): number {
  return payloadBytes + MESSAGE_OVERHEAD_BYTES
}

export interface Pending {
  seq: number
  payload: Uint8Array
  /** When it was first handed to a path (the link's clock). */
  sentAt: number
}

export class SendBuffer {
  private readonly entries = new Fifo<Pending>()
  private nextSeq = 0
  /** Payload bytes not yet acknowledged. */
  bytes = 0

  get count (): number {
    return this.entries.length
  }

  /** What the unacknowledged messages count against the remote's receive window. */
  get cost (): number {
    return this.bytes + this.count * MESSAGE_OVERHEAD_BYTES
  }

  /** Sequence number of the oldest message not yet acknowledged (or the next one). */
  get base (): number {
    return this.entries.peek()?.seq ?? this.nextSeq
  }

  push (payload: Uint8Array, now: number): Pending {
    const entry = { seq: this.nextSeq++, payload, sentAt: now }
    this.entries.push(entry)
    this.bytes += payload.byteLength
    return entry
  }

  /** Drop everything below `nextExpected`. Returns how many messages were released. */
  ack (nextExpected: number): number {
    let released = 0
    for (let entry = this.entries.peek(); entry !== undefined && entry.seq < nextExpected; entry = this.entries.peek()) {
      this.entries.shift()
      this.bytes -= entry.payload.byteLength
      released++
    }
    return released
  }

  /** Sequence number the next message pushed gets. */
  get next (): number {
    return this.nextSeq
  }

  /** The unacknowledged message numbered `seq`, if it is still held. */
  at (seq: number): Pending | undefined {
    return this.entries.at(seq - this.base)
  }

  /** The unacknowledged messages, oldest first; from `seq` on when given. */
  unacked (from = this.base): Pending[] {
    const all = this.entries.toArray()
    return from <= this.base ? all : all.slice(from - this.base)
  }
}

/** A message handed to the application, held against the window until it is taken. */
export interface Arrival {
  readonly seq: number
  readonly payload: Uint8Array
  /** The remote session it belongs to (see ReceiveWindow.reset). */
  readonly generation: number
}

export class ReceiveWindow {
  private readonly early = new Map<number, Uint8Array>()
  private readonly windowBytes: number
  private readonly maxAhead: number
  private generation = 0
  /** Next sequence number to arrive in order. */
  nextExpected = 0
  /** Next sequence number the application has not taken: what is acknowledged. */
  taken = 0
  /** Bytes (counted by messageCost) arrived early or delivered and not yet taken. */
  heldBytes = 0

  /**
   * `windowBytes` bounds what is held; `maxAhead` bounds how far ahead of
   * `nextExpected` a message may arrive (an honest sender has at most that many
   * messages unacknowledged).
   */
  constructor (windowBytes: number, maxAhead: number) {
    this.windowBytes = windowBytes
    this.maxAhead = maxAhead
  }

  /**
   * Start over at `base`, for a new remote session. What the old session delivered and
   * the application has not taken yet stays held, and counted: a remote that restarts
   * its session over and over cannot make this side hold more than one window.
   */
  reset (base: number): void {
    for (const payload of this.early.values()) {
      this.heldBytes -= messageCost(payload.byteLength)
    }
    this.early.clear()
    this.generation++
    this.nextExpected = base
    this.taken = base
  }

  /**
   * Accept one message; returns the messages now deliverable, in order. Throws
   * PROTOCOL_ERROR when the message would take the held bytes past the window, or is
   * further ahead than any honest sender could be.
   */
  accept (seq: number, payload: Uint8Array): Arrival[] {
    if (seq < this.nextExpected || this.early.has(seq)) {
      return []
    }
    if (seq - this.nextExpected >= this.maxAhead) {
      throw new LifelineError('PROTOCOL_ERROR', `Message ${seq} is too far ahead of ${this.nextExpected} (at most ${this.maxAhead} may be unacknowledged)`)
    }
    const cost = messageCost(payload.byteLength)
    if (this.heldBytes + cost > this.windowBytes) {
      throw new LifelineError('PROTOCOL_ERROR', `The remote overran the receive window: ${this.heldBytes} bytes held, ${cost} more arrived, the window is ${this.windowBytes}`)
    }
    this.heldBytes += cost
    if (seq !== this.nextExpected) {
      this.early.set(seq, payload)
      return []
    }
    const ready: Arrival[] = [{ seq, payload, generation: this.generation }]
    this.nextExpected++
    for (let next = this.early.get(this.nextExpected); next !== undefined; next = this.early.get(this.nextExpected)) {
      this.early.delete(this.nextExpected)
      ready.push({ seq: this.nextExpected, payload: next, generation: this.generation })
      this.nextExpected++
    }
    return ready
  }

  /**
   * The application took `arrival` (every reader has it). Returns true when that
   * moved what can be acknowledged. Arrivals are taken in the order they were
   * delivered: every reader reads in order, and one that stops gives up its messages
   * in order too.
   */
  release (arrival: Arrival): boolean {
    this.heldBytes -= messageCost(arrival.payload.byteLength)
    if (arrival.generation !== this.generation || arrival.seq < this.taken) {
      return false
    }
    this.taken = arrival.seq + 1
    return true
  }
}

export function sameSession (a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && a.byteLength === b.byteLength && a.every((byte, i) => byte === b[i])
}
