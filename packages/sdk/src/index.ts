/**
 * @lifeline/sdk: browser-first peer-to-peer links. A link is usable at once over a
 * Circuit Relay v2 relay and moves to a direct WebRTC connection when the network
 * allows, without losing a message.
 */
// Node.js 20 gaps (Promise.withResolvers, WebSocket) are filled before libp2p runs
import './internal/runtime/shims.js'

export { createPeer } from './create-peer.js'
export { isLifelineError, LifelineError } from './errors.js'
export { roomTopic } from './internal/rooms/topic.js'
export type { LifelineErrorCode } from './errors.js'
export {
  DEFAULT_MAX_INBOUND_LINKS,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_RECEIVE_WINDOW_BYTES,
  DEFAULT_SEND_BUFFER_BYTES,
  DEFAULT_ROOM_NAMESPACE,
  LINK_PROTOCOL,
  MAX_ROOM_METADATA_BYTES,
  ROOMS_PROTOCOL
} from './constants.js'
export type {
  AbortOptions,
  ConnectOptions,
  ConnectProgress,
  JoinOptions,
  Link,
  LinkDirection,
  LinkEvents,
  LinkPath,
  LinkStatus,
  PathChange,
  Peer,
  PeerEvents,
  PeerInit,
  PeerStatus,
  RelayState,
  RelayStatus,
  RelayTokenSource,
  RelayTransport,
  Room,
  RoomEvents,
  RoomMember,
  RoomMessage,
  RoomRelayStatus,
  RoomStatus,
  RoomTopicOptions,
  Stream
} from './types.js'
