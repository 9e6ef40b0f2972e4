/**
 * The few Circuit Relay v2 messages a bench client sends and reads
 * (https://github.com/libp2p/specs/blob/master/relay/circuit-v2.md#wire-format):
 * HOP RESERVE and CONNECT, STOP STATUS, and the `type`, `peer.id` and `status`
 * fields of any answer. @libp2p/circuit-relay-v2 does not export its protobuf
 * codecs, and a bench client needs neither vouchers nor limits, so other fields are
 * skipped. The codecs plug into @libp2p/utils' `pbStream`, which adds the
 * length prefixes.
 */
import type { Uint8ArrayList } from 'uint8arraylist'

export const HOP_PROTOCOL = '/libp2p/circuit/relay/0.2.0/hop'
export const STOP_PROTOCOL = '/libp2p/circuit/relay/0.2.0/stop'

export const HOP_RESERVE = 0
export const HOP_CONNECT = 1
export const STOP_CONNECT = 0
export const STOP_STATUS = 1
export const STATUS_OK = 100

const STATUS_NAMES: Readonly<Record<number, string>> = {
  100: 'OK',
  200: 'RESERVATION_REFUSED',
  201: 'RESOURCE_LIMIT_EXCEEDED',
  202: 'PERMISSION_DENIED',
  203: 'CONNECTION_FAILED',
  204: 'NO_RESERVATION',
  400: 'MALFORMED_MESSAGE',
  401: 'UNEXPECTED_MESSAGE'
}

export function statusName (status: number | undefined): string {
  return status === undefined ? 'no status' : STATUS_NAMES[status] ?? `status ${status}`
}

/** A HOP or STOP message, as far as the bench cares. */
export interface CircuitMessage {
  type?: number
  /** `peer.id`: a peer ID's multihash bytes. */
  peerId?: Uint8Array
  status?: number
}

export interface Codec {
  encode(message: CircuitMessage): Uint8Array
  decode(data: Uint8Array | Uint8ArrayList): CircuitMessage
}

const WIRE_VARINT = 0
const WIRE_FIXED64 = 1
const WIRE_BYTES = 2
const WIRE_FIXED32 = 5

/** Field numbers: `type` and `peer` are 1 and 2 in both messages, `status` differs. */
const FIELD_TYPE = 1
const FIELD_PEER = 2
const FIELD_PEER_ID = 1
const HOP_FIELD_STATUS = 5
const STOP_FIELD_STATUS = 4

export const hopCodec: Codec = codec(HOP_FIELD_STATUS)
export const stopCodec: Codec = codec(STOP_FIELD_STATUS)

function codec (statusField: number): Codec {
  return {
    encode: (message) => {
      const out: number[] = []
      if (message.type !== undefined) {
        writeVarint(out, (FIELD_TYPE << 3) | WIRE_VARINT)
        writeVarint(out, message.type)
      }
      if (message.peerId !== undefined) {
        const peer: number[] = []
        writeVarint(peer, (FIELD_PEER_ID << 3) | WIRE_BYTES)
        writeVarint(peer, message.peerId.byteLength)
        peer.push(...message.peerId)
        writeVarint(out, (FIELD_PEER << 3) | WIRE_BYTES)
        writeVarint(out, peer.length)
        out.push(...peer)
      }
      if (message.status !== undefined) {
        writeVarint(out, (statusField << 3) | WIRE_VARINT)
        writeVarint(out, message.status)
      }
      return Uint8Array.from(out)
    },
    decode: (data) => {
      const bytes = data instanceof Uint8Array ? data : data.subarray()
      const message: CircuitMessage = {}
      for (const field of fields(bytes)) {
        if (field.number === FIELD_TYPE && field.varint !== undefined) {
          message.type = field.varint
        } else if (field.number === statusField && field.varint !== undefined) {
          message.status = field.varint
        } else if (field.number === FIELD_PEER && field.bytes !== undefined) {
          for (const inner of fields(field.bytes)) {
            if (inner.number === FIELD_PEER_ID && inner.bytes !== undefined) {
              message.peerId = inner.bytes
            }
          }
        }
      }
      return message
    }
  }
}

interface Field {
  number: number
  varint?: number
  bytes?: Uint8Array
}

function * fields (bytes: Uint8Array): Generator<Field> {
  let offset = 0
  while (offset < bytes.byteLength) {
    const [key, afterKey] = readVarint(bytes, offset)
    const number = Math.floor(key / 8)
    const wire = key % 8
    offset = afterKey
    if (wire === WIRE_VARINT) {
      const [value, next] = readVarint(bytes, offset)
      offset = next
      yield { number, varint: value }
    } else if (wire === WIRE_BYTES) {
      const [length, next] = readVarint(bytes, offset)
      if (next + length > bytes.byteLength) {
        throw new Error('truncated protobuf field')
      }
      offset = next + length
      yield { number, bytes: bytes.subarray(next, offset) }
    } else if (wire === WIRE_FIXED64) {
      offset += 8
    } else if (wire === WIRE_FIXED32) {
      offset += 4
    } else {
      throw new Error(`unsupported protobuf wire type ${wire}`)
    }
  }
}

function writeVarint (out: number[], value: number): void {
  let rest = value
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80)
    rest = Math.floor(rest / 0x80)
  }
  out.push(rest)
}

/** Reads a varint; values past 2^53 (a uint64 expiry) lose precision, which no caller minds. */
function readVarint (bytes: Uint8Array, start: number): [number, number] {
  let value = 0
  let scale = 1
  for (let offset = start; offset < bytes.byteLength; offset++) {
    const byte = bytes[offset] ?? 0
    value += (byte & 0x7f) * scale
    scale *= 0x80
    if (byte < 0x80) {
      return [value, offset + 1]
    }
  }
  throw new Error('truncated varint')
}
