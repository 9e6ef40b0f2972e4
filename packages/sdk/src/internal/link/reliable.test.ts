import { describe, expect, it } from 'vitest'
import { isLifelineError } from '../../errors.js'
import { messageCost, ReceiveWindow, sameSession, SendBuffer, type Arrival } from './reliable.js'

const msg = (n: number): Uint8Array => new Uint8Array([n])

describe('SendBuffer', () => {
  it('numbers messages and releases them when acknowledged', () => {
    const buffer = new SendBuffer()
    for (let i = 0; i < 5; i++) {
      expect(buffer.push(msg(i), i).seq).toBe(i)
    }
    expect(buffer.count).toBe(5)
    expect(buffer.bytes).toBe(5)
    expect(buffer.ack(3)).toBe(3)
    expect(buffer.base).toBe(3)
    expect(buffer.unacked().map(e => e.seq)).toEqual([3, 4])
    expect(buffer.unacked(4).map(e => e.seq)).toEqual([4])
    expect(buffer.at(4)?.sentAt).toBe(4)
    expect(buffer.at(2)).toBeUndefined()
    expect(buffer.ack(2)).toBe(0)
    expect(buffer.ack(10)).toBe(2)
    expect(buffer.base).toBe(5)
    expect(buffer.bytes).toBe(0)
  })

  it('keeps its order across compaction of many acknowledged messages', () => {
    const buffer = new SendBuffer()
    for (let i = 0; i < 5000; i++) {
      buffer.push(msg(i % 256), 0)
    }
    buffer.ack(4990)
    expect(buffer.unacked().map(e => e.seq)).toEqual([4990, 4991, 4992, 4993, 4994, 4995, 4996, 4997, 4998, 4999])
  })
})

describe('ReceiveWindow', () => {
  const seqs = (arrivals: Arrival[]): number[] => arrivals.map(a => a.seq)

  it('delivers in order, holds early messages and drops duplicates', () => {
    const window = new ReceiveWindow(10_000, 100)
    expect(window.accept(1, msg(1))).toEqual([])
    expect(window.accept(2, msg(2))).toEqual([])
    expect(window.accept(1, msg(1))).toEqual([])
    expect(seqs(window.accept(0, msg(0)))).toEqual([0, 1, 2])
    expect(window.accept(0, msg(0))).toEqual([])
    expect(window.accept(2, msg(2))).toEqual([])
    expect(window.nextExpected).toBe(3)
  })

  it('delivers every message exactly once when a resend overlaps the original', () => {
    const window = new ReceiveWindow(1_000_000, 1000)
    const delivered: number[] = []
    // path A carries 0..59 but dies after 40; path B gets the resend of 30..59 and new 60..99
    const arrivals = [
      ...Array.from({ length: 40 }, (_, i) => i),
      ...Array.from({ length: 70 }, (_, i) => i + 30)
    ]
    for (const seq of arrivals) {
      for (const arrival of window.accept(seq, msg(seq))) {
        delivered.push(arrival.payload[0] ?? -1)
        window.release(arrival)
      }
    }
    expect(delivered).toEqual(Array.from({ length: 100 }, (_, i) => i % 256))
    expect(window.heldBytes).toBe(0)
  })

  it('refuses a message too far ahead instead of buffering without bound', () => {
    const window = new ReceiveWindow(1_000_000, 10)
    expect(() => window.accept(10, msg(0))).toThrow(expect.objectContaining({ code: 'PROTOCOL_ERROR' }))
  })

  it('holds at most the window in bytes, counting what arrived early and what is not taken yet', () => {
    const window = new ReceiveWindow(3 * messageCost(1000), 100)
    const first = window.accept(0, new Uint8Array(1000))
    window.accept(2, new Uint8Array(1000))
    expect(window.heldBytes).toBe(2 * messageCost(1000))
    let caught: unknown
    try {
      window.accept(5, new Uint8Array(1001))
    } catch (err) {
      caught = err
    }
    expect(isLifelineError(caught, 'PROTOCOL_ERROR')).toBe(true)
    // taking a message frees its room and moves what can be acknowledged
    expect(window.taken).toBe(0)
    expect(window.release(first[0] as Arrival)).toBe(true)
    expect(window.taken).toBe(1)
    expect(seqs(window.accept(1, new Uint8Array(1000)))).toEqual([1, 2])
    expect(window.heldBytes).toBe(2 * messageCost(1000))
  })

  it('bounds a flood of empty messages by their overhead', () => {
    const window = new ReceiveWindow(10 * messageCost(0), 1_000_000)
    for (let seq = 1; seq <= 10; seq++) {
      window.accept(seq, new Uint8Array(0))
    }
    expect(() => window.accept(11, new Uint8Array(0))).toThrow(expect.objectContaining({ code: 'PROTOCOL_ERROR' }))
  })

  it('restarts at the base of a new remote session, still counting what the app has not taken', () => {
    const window = new ReceiveWindow(3 * messageCost(1), 10)
    const [old] = window.accept(0, msg(0))
    window.accept(2, msg(2))
    window.reset(7)
    expect(window.heldBytes).toBe(messageCost(1))
    expect(window.accept(2, msg(2))).toEqual([])
    expect(seqs(window.accept(7, msg(7)))).toEqual([7])
    // an arrival of the old session frees its room but does not move the new acknowledgement
    expect(window.release(old as Arrival)).toBe(false)
    expect(window.taken).toBe(7)
    expect(window.heldBytes).toBe(messageCost(1))
  })
})

describe('sameSession', () => {
  it('compares session ids by value', () => {
    expect(sameSession(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true)
    expect(sameSession(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false)
    expect(sameSession(undefined, new Uint8Array([1, 2]))).toBe(false)
  })
})
