/**
 * Exactly-once, in-order delivery over paths that may die: the sender numbers every
 * message and keeps it until the receiver acknowledges it; after a path change the
 * unacknowledged rest is sent again on the new path, and the receiver drops what it
 * has already delivered and holds back what arrives early. Pure state, no I/O.
 */
import { LifelineError } from '../../errors.js'

interface Pending {
  seq: number
  payload: Uint8Array
}

export class SendBuffer {
  private entries: Pending[] = []
  private head = 0
  private nextSeq = 0
  bytes = 0

  get count (): number {
    return this.entries.length - this.head
  }

  /** Sequence number of the oldest message not yet acknowledged (or the next one). */
  get base (): number {
    return this.entries[this.head]?.seq ?? this.nextSeq
  }

  push (payload: Uint8Array): Pending {
    const entry = { seq: this.nextSeq++, payload }
    this.entries.push(entry)
    this.bytes += payload.byteLength
    return entry
  }

  /** Drop everything below `nextExpected`. Returns how many messages were released. */
  ack (nextExpected: number): number {
    let released = 0
    while (this.head < this.entries.length) {
      const entry = this.entries[this.head]
      if (entry === undefined || entry.seq >= nextExpected) {
        break
      }
      this.bytes -= entry.payload.byteLength
      this.head++
      released++
    }
    // compact now and then instead of shifting on every ack
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head)
      this.head = 0
    }
    return released
  }

  unacked (): Pending[] {
    return this.entries.slice(this.head)
  }
}

export class ReceiveWindow {
  private readonly early = new Map<number, Uint8Array>()
  private readonly maxEarly: number
  nextExpected = 0

  /** `maxEarly` bounds how far ahead of `nextExpected` a message may arrive. */
  constructor (maxEarly: number) {
    this.maxEarly = maxEarly
  }

  /** Start over at `base`, for a new remote session. */
  reset (base: number): void {
    this.early.clear()
    this.nextExpected = base
  }

  /** Accept one message; returns the messages now deliverable, in order. */
  accept (seq: number, payload: Uint8Array): Uint8Array[] {
    if (seq < this.nextExpected || this.early.has(seq)) {
      return []
    }
    if (seq !== this.nextExpected) {
      if (seq - this.nextExpected > this.maxEarly) {
        throw new LifelineError('PROTOCOL_ERROR', `Message ${seq} is too far ahead of ${this.nextExpected}`)
      }
      this.early.set(seq, payload)
      return []
    }
    const ready = [payload]
    this.nextExpected++
    for (let next = this.early.get(this.nextExpected); next !== undefined; next = this.early.get(this.nextExpected)) {
      this.early.delete(this.nextExpected)
      ready.push(next)
      this.nextExpected++
    }
    return ready
  }
}

export function sameSession (a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && a.byteLength === b.byteLength && a.every((byte, i) => byte === b[i])
}
