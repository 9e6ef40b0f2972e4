/**
 * The client side of a Circuit Relay v2 reservation (the HOP `RESERVE` exchange,
 * https://github.com/libp2p/specs/blob/master/relay/circuit-v2.md#reservation).
 * The pool makes its own reservations, instead of libp2p's listener, so it can hold
 * several, refresh them on its schedule and make them again after a relay restarts
 * (libp2p's static-relay listener never re-reserves, js-libp2p issue #3601). Incoming
 * circuits are still accepted by libp2p's circuit transport.
 */
import type { AbortOptions, Connection } from '@libp2p/interface'
import { pbStream } from '@libp2p/utils'
import { reader as createReader, writer as createWriter } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export const HOP_PROTOCOL = '/libp2p/circuit/relay/0.2.0/hop'

const TYPE_RESERVE = 0
const TYPE_STATUS = 2
const STATUS_OK = 100
/** A relay's answer is a handful of addresses; anything near this is not a relay talking. */
const MAX_RESPONSE_BYTES = 16 * 1024

/** Names of the spec's status codes, for error messages. */
const STATUS_NAMES: Record<number, string> = {
  100: 'OK',
  200: 'RESERVATION_REFUSED',
  201: 'RESOURCE_LIMIT_EXCEEDED',
  202: 'PERMISSION_DENIED',
  203: 'CONNECTION_FAILED',
  204: 'NO_RESERVATION',
  400: 'MALFORMED_MESSAGE',
  401: 'UNEXPECTED_MESSAGE'
}

/** The fields of a HopMessage a reservation uses. */
export interface HopResponse {
  type?: number
  status?: number
  /** Unix time in seconds when the reservation ends. */
  expire?: bigint
  addrs: Uint8Array[]
  limitSeconds?: number
  limitBytes?: bigint
}

function decodeReservation (bytes: Uint8Array, out: HopResponse): void {
  const r = createReader(bytes)
  while (r.pos < r.len) {
    const tag = r.uint32()
    if (tag >>> 3 === 1) {
      out.expire = r.uint64()
    } else if (tag >>> 3 === 2) {
      out.addrs.push(r.bytes())
    } else {
      r.skipType(tag & 7)
    }
  }
}

function decodeLimit (bytes: Uint8Array, out: HopResponse): void {
  const r = createReader(bytes)
  while (r.pos < r.len) {
    const tag = r.uint32()
    if (tag >>> 3 === 1) {
      out.limitSeconds = r.uint32()
    } else if (tag >>> 3 === 2) {
      out.limitBytes = r.uint64()
    } else {
      r.skipType(tag & 7)
    }
  }
}

/** HopMessage codec for the fields a reservation uses (type, reservation, limit, status). */
export const hopCodec = {
  /** Only requests are encoded, and a RESERVE request is nothing but its type. */
  encode (message: HopResponse): Uint8Array {
    return createWriter().uint32(8).uint32(message.type ?? TYPE_RESERVE).finish()
  },
  decode (data: Uint8Array | Uint8ArrayList): HopResponse {
    const r = createReader(data instanceof Uint8Array ? data : data.subarray())
    const out: HopResponse = { addrs: [] }
    while (r.pos < r.len) {
      const tag = r.uint32()
      switch (tag >>> 3) {
        case 1: out.type = r.uint32(); break
        case 3: decodeReservation(r.bytes(), out); break
        case 4: decodeLimit(r.bytes(), out); break
        case 5: out.status = r.uint32(); break
        default: r.skipType(tag & 7)
      }
    }
    return out
  }
}

/** The relay answered RESERVE with a status other than OK. */
export class ReservationRefusedError extends Error {
  /** The spec's status code, or undefined when the answer had none. */
  readonly status: number | undefined

  constructor (status: number | undefined) {
    super(`reservation refused (${status === undefined ? 'no status' : (STATUS_NAMES[status] ?? String(status))})`)
    this.name = 'ReservationRefusedError'
    this.status = status
  }
}

export const STATUS_PERMISSION_DENIED = 202

export interface Reservation {
  /** When the reservation ends, in ms since the epoch. */
  expiresAt: number
  /** Limits the relay applies to each circuit, if any. */
  limitSeconds?: number
  limitBytes?: bigint
}

/** Ask the relay on `connection` for a reservation (or to refresh the one we hold). */
export async function reserve (connection: Connection, options: AbortOptions): Promise<Reservation> {
  const stream = await connection.newStream(HOP_PROTOCOL, options)
  try {
    const messages = pbStream(stream, { maxDataLength: MAX_RESPONSE_BYTES }).pb(hopCodec)
    await messages.write({ type: TYPE_RESERVE, addrs: [] }, options)
    const response = await messages.read(options)
    await stream.close(options)
    if (response.type !== TYPE_STATUS || response.status !== STATUS_OK || response.expire === undefined) {
      throw new ReservationRefusedError(response.status)
    }
    const reservation: Reservation = { expiresAt: Number(response.expire) * 1000 }
    if (response.limitSeconds !== undefined) {
      reservation.limitSeconds = response.limitSeconds
    }
    if (response.limitBytes !== undefined) {
      reservation.limitBytes = response.limitBytes
    }
    return reservation
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    throw err
  }
}
