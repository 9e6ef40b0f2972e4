/**
 * Rooms on a relay, put together: the directory (in memory, or Redis with
 * `--redis`), the hub holding this relay's rooms, the `/lifeline/rooms/1.0.0`
 * handler, and the relay's reservations published to the directory so that any
 * relay of the fleet answers LOOKUP for them.
 */
import {
  LOG_NAMESPACE, MAX_ROOM_METADATA_BYTES, MAX_ROOM_REQUEST_BYTES, PRESENCE_REFRESHES_PER_TTL,
  ROOM_EXTRA_STREAMS_PER_CONNECTION, ROOM_REQUEST_TIMEOUT_MS
} from '../constants.js'
import { MemoryDirectory, type Directory } from './directory.js'
import { RedisDirectory } from './redis-directory.js'
import { RoomHub, type RoomHoldings } from './hub.js'
import { ROOMS_PROTOCOL, RoomServer, type RoomAuthorization } from './room-server.js'
import type { RelayConfig } from '../config.js'
import type { Reservations } from '../serve/reservations.js'
import type { Counters } from '../watch/counters.js'
import type { Libp2p } from 'libp2p'

export { ROOMS_PROTOCOL }

export type RoomsConfig = Pick<RelayConfig, 'redis' | 'redisPrefix' | 'presenceTtlSeconds' | 'maxRoomsPerPeer' | 'maxRoomMembers' | 'roomBufferBytes'>

export interface RoomsComponents {
  node: Libp2p
  reservations: Reservations
  counters: Counters
  /** What relay tokens grant a connection; undefined when the relay asks for none. */
  authorization?: RoomAuthorization
}

export interface Rooms {
  holdings(): RoomHoldings
  stop(): Promise<void>
}

/** Starts the rooms service on `node`; with `redis`, waits a few seconds at most for it. */
export async function startRooms (components: RoomsComponents, config: RoomsConfig): Promise<Rooms> {
  const { node, reservations, counters } = components
  const log = node.logger.forComponent(`${LOG_NAMESPACE}:rooms`)
  const relayId = node.peerId.toString()
  const ttlMs = config.presenceTtlSeconds * 1000
  const refreshMs = Math.max(1, Math.floor(ttlMs / PRESENCE_REFRESHES_PER_TTL))
  const directory: Directory = config.redis === undefined
    ? new MemoryDirectory({ relayId })
    : new RedisDirectory({ url: config.redis, prefix: config.redisPrefix, relayId, ttlMs, refreshMs, log })

  const hub = new RoomHub({
    directory,
    relayId: node.peerId,
    relayAddrs: () => node.getMultiaddrs().map(ma => ma.toString()).filter(ma => !ma.includes('/p2p-circuit')),
    counters,
    log
  }, { maxRoomMembers: config.maxRoomMembers, maxRoomsPerPeer: config.maxRoomsPerPeer, resyncMs: refreshMs })
  const server = new RoomServer({
    hub,
    counters,
    log,
    hasReservation: peer => reservations.has(peer),
    ...(components.authorization === undefined ? {} : { authorization: components.authorization })
  }, {
    requestTimeoutMs: ROOM_REQUEST_TIMEOUT_MS,
    maxRequestBytes: MAX_ROOM_REQUEST_BYTES,
    maxMetadataBytes: MAX_ROOM_METADATA_BYTES,
    subscriberBufferBytes: config.roomBufferBytes
  })

  reservations.onChange((peer, held) => {
    if (held) {
      directory.putPeer(peer.toString(), hub.location())
    } else {
      directory.removePeer(peer.toString())
    }
  })
  hub.start()
  await directory.start()
  await node.handle(ROOMS_PROTOCOL, async (stream, connection) => { await server.onRooms(stream, connection) }, {
    maxInboundStreams: config.maxRoomsPerPeer + ROOM_EXTRA_STREAMS_PER_CONNECTION,
    runOnLimitedConnection: true
  })

  return {
    holdings: () => hub.holdings(),
    stop: async () => {
      server.stop()
      hub.stop()
      await directory.stop()
    }
  }
}
