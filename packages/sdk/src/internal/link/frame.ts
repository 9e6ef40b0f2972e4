/**
 * Wire format of the link protocol (`/lifeline/link/2.0.0`). Every frame is
 *
 *   u32 length (big endian, bytes after this field) | u8 type | body
 *
 * Sequence numbers are u32: a link would need four billion messages in one session
 * to wrap, far beyond any real conversation.
 */
import { Uint8ArrayList } from 'uint8arraylist'
import { LifelineError } from '../../errors.js'

export const FrameType = {
  HELLO: 1,
  DATA: 2,
  ACK: 3,
  PING: 4,
  PONG: 5,
  CLOSE: 6,
  DIRECT_UP: 7
} as const

export const SESSION_ID_BYTES = 8

export type Frame =
  | {
    type: typeof FrameType.HELLO
    /** The sender's link session; changes when the sender's link restarts. */
    session: Uint8Array
    /** Oldest sequence number the sender may still send (its first unacknowledged). */
    base: number
    /** The receiver's session as the sender knows it, all zero when unknown. */
    peerSession: Uint8Array
    /** Next sequence number the sender expects from `peerSession` (what its app has taken). */
    nextExpected: number
    /** Bytes the sender holds for its application before the receiver must wait (see reliable.ts). */
    window: number
    /** Largest message the sender accepts. */
    maxMessageBytes: number
  }
  | { type: typeof FrameType.DATA, seq: number, payload: Uint8Array }
  | { type: typeof FrameType.ACK, nextExpected: number }
  | { type: typeof FrameType.PING | typeof FrameType.PONG, nonce: number }
  | { type: typeof FrameType.CLOSE | typeof FrameType.DIRECT_UP }

const LENGTH_BYTES = 4
/**
 * Payloads up to this size are copied behind their header so a message is one write:
 * each write becomes its own Yamux frame and Noise message on every layer (and on a
 * relay, a WebSocket message of its own), and per-message cipher work (a Poly1305 key
 * and pad, the calls around it) led the bench's profiles of a relayed bulk transfer;
 * copying 64 KiB costs far less. Larger payloads go as a second chunk, uncopied.
 */
const COPY_PAYLOAD_MAX = 64 * 1024
const HELLO_BODY = SESSION_ID_BYTES * 2 + 16

function frame (type: number, bodyLength: number): { bytes: Uint8Array, view: DataView } {
  const bytes = new Uint8Array(LENGTH_BYTES + 1 + bodyLength)
  const view = new DataView(bytes.buffer)
  view.setUint32(0, 1 + bodyLength)
  view.setUint8(LENGTH_BYTES, type)
  return { bytes, view }
}

/** Encode one frame as the chunks to write; a large DATA payload is a chunk of its own. */
export function encodeFrame (f: Frame): Uint8Array[] {
  const at = LENGTH_BYTES + 1
  switch (f.type) {
    case FrameType.HELLO: {
      const { bytes, view } = frame(f.type, HELLO_BODY)
      bytes.set(f.session, at)
      view.setUint32(at + SESSION_ID_BYTES, f.base)
      bytes.set(f.peerSession, at + SESSION_ID_BYTES + 4)
      view.setUint32(at + SESSION_ID_BYTES * 2 + 4, f.nextExpected)
      view.setUint32(at + SESSION_ID_BYTES * 2 + 8, f.window)
      view.setUint32(at + SESSION_ID_BYTES * 2 + 12, f.maxMessageBytes)
      return [bytes]
    }
    case FrameType.DATA: {
      const large = f.payload.byteLength > COPY_PAYLOAD_MAX
      const { bytes, view } = frame(f.type, 4 + (large ? 0 : f.payload.byteLength))
      view.setUint32(0, 1 + 4 + f.payload.byteLength)
      view.setUint32(at, f.seq)
      if (large) {
        return [bytes, f.payload]
      }
      bytes.set(f.payload, at + 4)
      return [bytes]
    }
    case FrameType.ACK: {
      const { bytes, view } = frame(f.type, 4)
      view.setUint32(at, f.nextExpected)
      return [bytes]
    }
    case FrameType.PING:
    case FrameType.PONG: {
      const { bytes, view } = frame(f.type, 4)
      view.setUint32(at, f.nonce)
      return [bytes]
    }
    case FrameType.CLOSE:
    case FrameType.DIRECT_UP:
      return [frame(f.type, 0).bytes]
  }
}

function protocolError (message: string): LifelineError {
  return new LifelineError('PROTOCOL_ERROR', `Malformed link frame: ${message}`)
}

function expectLength (type: string, actual: number, expected: number): void {
  if (actual !== expected) {
    throw protocolError(`${type} body is ${actual} bytes, expected ${expected}`)
  }
}

function decodeBody (type: number, body: Uint8Array): Frame {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength)
  switch (type) {
    case FrameType.HELLO:
      expectLength('HELLO', body.byteLength, HELLO_BODY)
      return {
        type,
        session: body.slice(0, SESSION_ID_BYTES),
        base: view.getUint32(SESSION_ID_BYTES),
        peerSession: body.slice(SESSION_ID_BYTES + 4, SESSION_ID_BYTES * 2 + 4),
        nextExpected: view.getUint32(SESSION_ID_BYTES * 2 + 4),
        window: view.getUint32(SESSION_ID_BYTES * 2 + 8),
        maxMessageBytes: view.getUint32(SESSION_ID_BYTES * 2 + 12)
      }
    case FrameType.DATA:
      if (body.byteLength < 4) {
        throw protocolError('DATA body shorter than its sequence number')
      }
      return { type, seq: view.getUint32(0), payload: body.subarray(4) }
    case FrameType.ACK:
      expectLength('ACK', body.byteLength, 4)
      return { type, nextExpected: view.getUint32(0) }
    case FrameType.PING:
    case FrameType.PONG:
      expectLength(type === FrameType.PING ? 'PING' : 'PONG', body.byteLength, 4)
      return { type, nonce: view.getUint32(0) }
    case FrameType.CLOSE:
    case FrameType.DIRECT_UP:
      expectLength(type === FrameType.CLOSE ? 'CLOSE' : 'DIRECT_UP', body.byteLength, 0)
      return { type }
    default:
      throw protocolError(`unknown frame type ${type}`)
  }
}

/**
 * Splits a byte stream into frames. A frame longer than `maxFrameBytes` or with an
 * unknown type throws PROTOCOL_ERROR before anything of it is buffered further.
 */
export class FrameDecoder {
  private readonly buffer = new Uint8ArrayList()
  private readonly maxFrameBytes: number

  constructor (maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes
  }

  push (chunk: Uint8Array | Uint8ArrayList): Frame[] {
    this.buffer.append(chunk)
    const frames: Frame[] = []
    while (this.buffer.byteLength >= LENGTH_BYTES) {
      const length = this.buffer.getUint32(0)
      if (length < 1) {
        throw protocolError('empty frame')
      }
      if (length > this.maxFrameBytes) {
        throw protocolError(`frame of ${length} bytes exceeds the limit of ${this.maxFrameBytes}`)
      }
      if (this.buffer.byteLength < LENGTH_BYTES + length) {
        break
      }
      const type = this.buffer.get(LENGTH_BYTES)
      const body = this.buffer.subarray(LENGTH_BYTES + 1, LENGTH_BYTES + length)
      this.buffer.consume(LENGTH_BYTES + length)
      frames.push(decodeBody(type, body))
    }
    return frames
  }
}
