import { describe, expect, it } from 'vitest'
import { isLifelineError } from '../../errors.js'
import { encodeFrame, FrameDecoder, FrameType, type Frame } from './frame.js'

function bytesOf (frame: Frame): Uint8Array {
  const chunks = encodeFrame(frame)
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0))
  let at = 0
  for (const c of chunks) {
    out.set(c, at)
    at += c.byteLength
  }
  return out
}

const hello: Frame = {
  type: FrameType.HELLO,
  session: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]),
  base: 42,
  peerSession: new Uint8Array(8),
  nextExpected: 7,
  window: 18 * 1024 * 1024,
  maxMessageBytes: 8 * 1024 * 1024
}

describe('link frames', () => {
  it('round-trips every frame type', () => {
    const frames: Frame[] = [
      hello,
      { type: FrameType.DATA, seq: 4_000_000_000, payload: new Uint8Array([9, 8, 7]) },
      { type: FrameType.ACK, nextExpected: 3 },
      { type: FrameType.PING, nonce: 1 },
      { type: FrameType.PONG, nonce: 2 },
      { type: FrameType.CLOSE },
      { type: FrameType.DIRECT_UP }
    ]
    const decoder = new FrameDecoder(1024)
    expect(decoder.push(new Uint8Array(frames.flatMap(f => [...bytesOf(f)])))).toEqual(frames)
  })

  it('reassembles a frame split across chunks of one byte', () => {
    const decoder = new FrameDecoder(1024)
    const bytes = bytesOf({ type: FrameType.DATA, seq: 5, payload: new TextEncoder().encode('hello') })
    const out: Frame[] = []
    for (const b of bytes) {
      out.push(...decoder.push(new Uint8Array([b])))
    }
    expect(out).toEqual([{ type: FrameType.DATA, seq: 5, payload: new TextEncoder().encode('hello') }])
  })

  it('rejects a frame longer than the limit before buffering it', () => {
    const decoder = new FrameDecoder(16)
    const header = new Uint8Array([0, 0, 1, 0, FrameType.DATA])
    expect(() => decoder.push(header)).toThrow(/exceeds the limit of 16/)
  })

  it('rejects unknown frame types and wrong body sizes with PROTOCOL_ERROR', () => {
    for (const garbage of [
      new Uint8Array([0, 0, 0, 1, 99]),
      new Uint8Array([0, 0, 0, 3, FrameType.ACK, 1, 2]),
      new Uint8Array([0, 0, 0, 2, FrameType.DATA, 1]),
      new Uint8Array([0, 0, 0, 0])
    ]) {
      let caught: unknown
      try {
        new FrameDecoder(1024).push(garbage)
      } catch (err) {
        caught = err
      }
      expect(isLifelineError(caught, 'PROTOCOL_ERROR')).toBe(true)
    }
  })
})

describe('DATA frame encoding', () => {
  it('writes a small message as one chunk and a large one as header plus payload', () => {
    const small = encodeFrame({ type: FrameType.DATA, seq: 1, payload: new Uint8Array(100) })
    expect(small).toHaveLength(1)
    const payload = new Uint8Array(100_000).fill(3)
    const large = encodeFrame({ type: FrameType.DATA, seq: 2, payload })
    expect(large).toHaveLength(2)
    expect(large[1]).toBe(payload)
    const decoded = new FrameDecoder(200_000).push(new Uint8Array([...(large[0] ?? []), ...payload]))
    expect(decoded).toEqual([{ type: FrameType.DATA, seq: 2, payload }])
  })
})
