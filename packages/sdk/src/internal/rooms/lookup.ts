/**
 * LOOKUP (protocols/rooms.proto): ask a relay where another peer is reserved. One
 * request, one answer, bounded like a JOIN stream's events; the answer's relays
 * become hints for dialling that peer through relays we do not use ourselves.
 */
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { MAX_RELAY_ADDRS_READ, MAX_ROOM_EVENT_BYTES, MAX_ROOM_MEMBERS, MAX_ROOM_REFUSAL_CHARS } from '../../constants.js'
import type { RelayAddress } from '../util/parse.js'
import { RoomEvent, RoomRequest } from './pb/rooms.js'
import { peerIdFromBytes, relayOfMember } from './records.js'

export type LookupAnswer =
  /** The relays holding a reservation of the peer (none: the relay does not know it). */
  | { kind: 'found', relays: RelayAddress[] }
  /** The relay refused (`DIRECTORY_UNAVAILABLE`, `NOT_AUTHORIZED`, ...). */
  | { kind: 'refused', code: string, message: string }

/**
 * @throws what the stream throws (closed, aborted), or an Error for an answer that is
 * not the protocol
 */
export async function lookupOn (connection: Connection, newStream: (connection: Connection, signal: AbortSignal) => Promise<Stream>, peer: PeerId, signal: AbortSignal): Promise<LookupAnswer> {
  const stream = await newStream(connection, signal)
  try {
    const lp = lpStream(stream, { maxDataLength: MAX_ROOM_EVENT_BYTES })
    await lp.write(RoomRequest.encode({ lookup: { peerId: new Uint8Array(peer.toMultihash().bytes) } }), { signal })
    const event = RoomEvent.decode(await lp.read({ signal }), { limits: { members: MAX_ROOM_MEMBERS, members$: { relayAddrs: MAX_RELAY_ADDRS_READ } } })
    await stream.close({ signal }).catch(() => { stream.abort(new Error('LOOKUP stream did not close')) })
    if (event.type === RoomEvent.Type.ERROR) {
      return { kind: 'refused', code: event.code, message: event.message.slice(0, MAX_ROOM_REFUSAL_CHARS) }
    }
    if (event.type !== RoomEvent.Type.LOOKUP) {
      throw new Error(`the relay answered a LOOKUP with ${event.type}`)
    }
    const relays = new Map<string, RelayAddress>()
    for (const member of event.members) {
      const relayId = peerIdFromBytes(member.relayId)?.toString()
      const relay = relayId === undefined ? undefined : relayOfMember(member.relayAddrs, relayId)
      if (relayId !== undefined && relay !== undefined) {
        relays.set(relayId, relay)
      }
    }
    return { kind: 'found', relays: [...relays.values()] }
  } catch (err: unknown) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    throw err
  }
}
