import type { LifelineError } from './errors.js'
import type { Stream, TypedEventTarget } from '@libp2p/interface'

export type { Stream }

/** How a link's messages currently travel: the path tier. */
export type LinkPath = 'relayed' | 'direct'

/** Who opened a link: this peer (`outbound`) or the remote (`inbound`). */
export type LinkDirection = 'outbound' | 'inbound'

export interface PeerInit {
  /**
   * Multiaddrs of Circuit Relay v2 relays, each ending in `/p2p/<relay peer ID>`,
   * e.g. `/dns4/relay.example.com/tcp/443/wss/p2p/12D3Koo...`. At least one.
   * Addresses with the same peer ID are one relay reachable over several transports
   * (WSS, WebRTC-Direct with its `/certhash/`): they are raced, the preferred first
   * (RELAY_TRANSPORT_PREFERENCE), the next 250 ms later (RELAY_ATTEMPT_DELAY_MS) or
   * as soon as the one before fails, and the first to answer is used.
   */
  relays: string[]
  /**
   * ICE servers for WebRTC. No third-party servers are contacted unless listed here.
   *
   * @default []
   */
  iceServers?: RTCIceServer[]
  /**
   * The peer's identity as a protobuf-encoded Ed25519 private key (for instance from
   * `exportPrivateKey()` of an earlier peer). A new identity is made when absent.
   */
  privateKey?: Uint8Array
  /**
   * Allow dialing private and loopback addresses and plain `ws://` (local development,
   * LAN deployments, tests). Browsers refuse them otherwise.
   *
   * @default false
   */
  allowPrivateAddresses?: boolean
  /**
   * Try a direct WebRTC connection for every link. When false, links stay relayed.
   *
   * @default true
   */
  direct?: boolean
  /**
   * Relays to hold reservations on at once, chosen from `relays` by health.
   *
   * @default 2 (DEFAULT_RELAY_RESERVATIONS)
   */
  reservations?: number
  /**
   * Largest message `Link.send()` accepts, in bytes.
   *
   * @default 8 MiB (DEFAULT_MAX_MESSAGE_BYTES)
   */
  maxMessageBytes?: number
  /**
   * Bytes a link may hold unacknowledged before `send()` waits.
   *
   * @default 16 MiB (DEFAULT_SEND_BUFFER_BYTES)
   */
  sendBufferBytes?: number
  /**
   * Bytes a link holds for the application before the remote must wait: messages
   * delivered to a `messages()` iterator but not read yet, and messages that arrived
   * out of order. A remote that sends past it is cut off with `PROTOCOL_ERROR`. At
   * least `maxMessageBytes` plus 256 bytes.
   *
   * @default 18 MiB (DEFAULT_RECEIVE_WINDOW_BYTES)
   */
  receiveWindowBytes?: number
  /**
   * Links other peers may have open to this one at once; further ones are refused.
   *
   * @default 256 (DEFAULT_MAX_INBOUND_LINKS)
   */
  maxInboundLinks?: number
  /**
   * For relays that require signed tokens (`lifeline-relay --auth-public-key`): returns
   * a token for this peer on `relay`, an EdDSA JWT whose `sub` is this peer's ID, as
   * the application's backend issues it. Called for a fresh token before every
   * reservation on a relay, the first and each refresh, and presented on the relay
   * connection. A token the relay refuses, or a callback that throws or resolves to
   * anything but a string, shows in `status().relays[i].lastError` and the relay is
   * retried after its backoff. The callback and the exchange together get 10 s
   * (RELAY_AUTH_TIMEOUT_MS). Relays that do not ask for tokens reserve without one.
   *
   * @default none: reserve without a token
   */
  relayToken?: RelayTokenSource
  /**
   * The namespace this app's rooms are named in: a room's topic on the wire is
   * SHA-256("lifeline-room/v1\0" + namespace + "\0" + name), so apps sharing a fleet
   * of relays, each with its own namespace, never meet in a room of the same name.
   * Non-empty, at most 1024 UTF-8 bytes.
   *
   * @default 'lifeline' (DEFAULT_ROOM_NAMESPACE)
   */
  roomNamespace?: string
}

/** Options of `roomTopic()`. */
export interface RoomTopicOptions {
  /**
   * The namespace the room is named in: the peers' `PeerInit.roomNamespace`.
   *
   * @default 'lifeline' (DEFAULT_ROOM_NAMESPACE)
   */
  namespace?: string
}

/** See `PeerInit.relayToken`. */
export type RelayTokenSource = (relay: { multiaddr: string, peerId: string }) => Promise<string>

export interface AbortOptions {
  signal?: AbortSignal
}

/** The steps of `connect()`, reported through its `onProgress` option. */
export type ConnectProgress =
  | { type: 'dial-relayed', relay: string }
  | { type: 'relayed', relay: string }
  | { type: 'link-open' }

export interface ConnectOptions extends AbortOptions {
  onProgress?(event: ConnectProgress): void
}

/**
 * `reserved`: holds our reservation; `connecting`: dialling or reserving; `down`: failed,
 * waiting for its retry; `standby`: healthy as far as we know, not needed now.
 */
/** How a relay is reached: the outermost transport of its address (`/tls/ws` is `wss`). */
export type RelayTransport = 'wss' | 'ws' | 'webrtc-direct' | 'other'

export type RelayState = 'connecting' | 'reserved' | 'down' | 'standby'

export interface RelayStatus {
  /**
   * The address the relay is held on while connected; otherwise the first one that
   * will be tried. As configured.
   */
  multiaddr: string
  /** Every configured address of this relay (one per transport), in the order they are tried. */
  multiaddrs: string[]
  /** The transport the relay is held on, while connected: `wss`, `ws`, `webrtc-direct`, ... */
  transport?: RelayTransport
  peerId: string
  state: RelayState
  /** Smoothed round-trip time to the relay in milliseconds, once measured. */
  rttMs?: number
  /** When the reservation ends (ms since the epoch), while reserved. It is refreshed well before. */
  reservationExpiresAt?: number
  /** Failures since the last successful reservation. */
  failures: number
  /** When a `down` relay is tried again (ms since the epoch). */
  retryAt?: number
  /** The last error seen while connecting, reserving or pinging. */
  lastError?: string
  /**
   * True while a held relay has missed a ping but not enough of them to be called dead
   * (busy, congested, or dying): it is still used, and its reservation kept.
   */
  slow?: boolean
}

export interface LinkStatus {
  peerId: string
  path: LinkPath
  /** Peer ID of the relay carrying the messages, while the path is `relayed`. */
  relayPeerId?: string
  /** Paths the link has now: the one in use plus spares (relayed circuits, direct connection). */
  paths: number
  rttMs?: number
  state: 'open' | 'closed'
  /** Who opened the link: this peer (`outbound`) or the remote (`inbound`). */
  direction: LinkDirection
}

/** One relay's part in a room: the JOIN stream this peer holds on it. */
export interface RoomRelayStatus {
  /** The relay's peer ID (one of ours, holding our reservation). */
  peerId: string
  /**
   * `joining`: JOIN sent, no SNAPSHOT yet; `joined`: the relay lists its view of the
   * room; `partial`: joined, but the relay's fleet directory is away, so only the
   * relay's own members are listed; `down`: the stream ended and is opened again
   * after a backoff (see `lastError`).
   */
  state: 'joining' | 'joined' | 'partial' | 'down'
  /** Why the last stream ended: the relay's refusal (`LIMIT: ...`) or what broke. */
  lastError?: string
}

export interface RoomStatus {
  name: string
  /** Other members known, across every relay. */
  members: number
  relays: RoomRelayStatus[]
  /** Member records dropped because their signature, topic or fields were invalid. */
  invalidRecords: number
  /** Members not kept because the room held MAX_ROOM_MEMBERS already. */
  droppedMembers: number
}

export interface PeerStatus {
  peerId: string
  started: boolean
  /** True while at least one relay holds a reservation for this peer. */
  online: boolean
  relays: RelayStatus[]
  links: LinkStatus[]
  /** Multiaddrs other peers can use to reach this one. */
  addresses: string[]
  /** Rooms joined and not left. */
  rooms: RoomStatus[]
}

export interface PeerEvents {
  /** A remote peer opened a link to this peer. */
  link: CustomEvent<Link>
  /** `online` changed: a first reservation was made, or the last one was lost. */
  online: CustomEvent<boolean>
  /** A relay's state, RTT or reservation changed. */
  relay: CustomEvent<RelayStatus>
  /** Any part of `status()` changed. */
  status: CustomEvent<PeerStatus>
}

export interface Peer extends TypedEventTarget<PeerEvents> {
  /** This peer's ID, a base58btc string. */
  readonly peerId: string
  /** Start the peer and begin reserving on the relays. */
  start(): Promise<void>
  /** Close every link and connection and stop. */
  stop(): Promise<void>
  /**
   * Resolves once a relay holds a reservation for this peer, so that others can reach it.
   *
   * @throws {LifelineError} `NOT_STARTED`, `ABORTED`, `TIMEOUT`
   */
  online(options?: AbortOptions): Promise<void>
  /** A snapshot of relays, links and addresses. */
  status(): PeerStatus
  /**
   * Open (or return the open) link to a peer. Resolves as soon as the relayed path
   * carries messages; a direct WebRTC path is tried in the background. The relays
   * tried are ours, then those the peer's room records name; when none reaches it,
   * one of ours is asked where it is reserved (LOOKUP) and those are tried once more.
   *
   * @throws {LifelineError} `INVALID_PEER_ID`, `NOT_STARTED`, `PEER_UNREACHABLE`,
   * `RELAY_UNREACHABLE`, `DIRECTORY_UNAVAILABLE` (the LOOKUP could not be answered),
   * `ABORTED`, `TIMEOUT`
   */
  connect(peerId: string, options?: ConnectOptions): Promise<Link>
  /** Open links, by remote peer ID. */
  links(): Link[]
  /**
   * Accept raw streams for an application protocol (see `Link.openStream()`).
   */
  handle(protocol: string, handler: (stream: Stream, remotePeerId: string) => void): Promise<void>
  /** The private key to pass as `privateKey` to keep this identity. */
  exportPrivateKey(): Uint8Array
  /**
   * Join a room: find the other peers that joined `name` (in `PeerInit.roomNamespace`)
   * through the relays. Waits for a relay reservation (as `online()`), then joins
   * through every relay holding one; resolves once a relay has listed the room.
   * Joining a room already joined (and not left) is refused: use its `Room`.
   *
   * @throws {LifelineError} `INVALID_CONFIG` (bad name or metadata), `NOT_STARTED`,
   * `ROOM_REFUSED` (every relay refused: its code and message), `RELAY_UNREACHABLE`
   * (no reservation in time), `ABORTED`, `TIMEOUT`
   */
  join(name: string, options?: JoinOptions): Promise<Room>
}

export interface JoinOptions extends AbortOptions {
  /**
   * What this peer tells the room about itself (a display name, an avatar hash): a
   * string is sent as UTF-8. Opaque to relays, signed by this peer, at most 4 KiB
   * (MAX_ROOM_METADATA_BYTES).
   *
   * @default empty
   */
  metadata?: Uint8Array | string
  /**
   * Open a link to every member, those there now and each that joins. Of two
   * members only the one whose peer ID string sorts lower dials; the other accepts,
   * so they never open two links to each other. A failed dial is tried again while
   * the member stays.
   *
   * @default false
   */
  autoConnect?: boolean
}

/** A member of a room, other than this peer. */
export interface RoomMember {
  peerId: string
  /** Its metadata, from its newest signed record. */
  metadata: Uint8Array
  /** Peer IDs of the relays holding its membership (the relays it is reserved on). */
  relays: string[]
}

/** A message a member sent on its link to this peer. */
export interface RoomMessage {
  from: string
  data: Uint8Array
}

export interface RoomEvents {
  /** A member appeared: its first relay listed it. */
  join: CustomEvent<RoomMember>
  /** A member is gone: the last relay that listed it no longer does. */
  leave: CustomEvent<RoomMember>
  /** A member's metadata, or the relays it is held on, changed. */
  update: CustomEvent<RoomMember>
  /**
   * A message arrived on the link of a current member. Room messages are link
   * messages: a member in two rooms shared with this peer has one link, and its
   * messages show in both rooms.
   */
  message: CustomEvent<RoomMessage>
  /** Anything in `status()` changed. */
  status: CustomEvent<RoomStatus>
}

export interface Room extends TypedEventTarget<RoomEvents> {
  readonly name: string
  /** True once `leave()` was called (or the peer stopped). */
  readonly left: boolean
  /** The other members now (not this peer). */
  members(): RoomMember[]
  /** Relays joined through, their state and last errors, counts. */
  status(): RoomStatus
  /**
   * Open (or return the open) link to a member, as `Peer.connect()`; when none of our
   * relays reaches it, through the relays its record names.
   *
   * @throws {LifelineError} as `Peer.connect()`
   */
  connect(peerId: string, options?: ConnectOptions): Promise<Link>
  /**
   * Send `data` on the link of every member that has one open (see `connect()` and
   * `autoConnect`). Resolves once every link has taken it; a link that closes
   * meanwhile is skipped. These are link messages: a member that shares two rooms
   * with this peer gets them in both.
   *
   * @throws {LifelineError} `MESSAGE_TOO_LARGE`, `ABORTED`
   */
  send(data: Uint8Array | string, options?: AbortOptions): Promise<void>
  /**
   * Tell the room new metadata: a newer signed record is sent on every relay's JOIN
   * stream, and the members get `update`.
   *
   * @throws {LifelineError} `INVALID_CONFIG` (over 4 KiB), `ROOM_REFUSED` (the room was left)
   */
  setMetadata(metadata: Uint8Array | string, options?: AbortOptions): Promise<void>
  /** Leave: every JOIN stream is closed, which the relays tell the other members. Idempotent. */
  leave(): Promise<void>
}

export interface PathChange {
  path: LinkPath
  previous: LinkPath
}

export interface LinkEvents {
  /** A message arrived (in order, exactly once). */
  message: CustomEvent<Uint8Array>
  /** Messages now travel another way. */
  pathchange: CustomEvent<PathChange>
  /** The smoothed RTT of the current path changed. */
  rtt: CustomEvent<number>
  /** The link closed; `detail` says why, when it was an error. */
  close: CustomEvent<LifelineError | undefined>
}

export interface Link extends TypedEventTarget<LinkEvents>, AsyncIterable<Uint8Array> {
  readonly remotePeerId: string
  readonly direction: LinkDirection
  /** How messages travel now. */
  readonly path: LinkPath
  /** Smoothed round-trip time of the current path in ms, once measured. */
  readonly rttMs: number | undefined
  readonly closed: boolean
  /** A snapshot: path, relay in use, number of paths, RTT. */
  status(): LinkStatus
  /**
   * Queue a message. Resolves once the link has taken it; waits while the send buffer
   * is full. Messages arrive in order and exactly once while both peers run, across
   * any number of path changes.
   *
   * @throws {LifelineError} `LINK_CLOSED`, `MESSAGE_TOO_LARGE`, `ABORTED`
   */
  send(data: Uint8Array | string, options?: AbortOptions): Promise<void>
  /** Incoming messages from now on; ends when the link closes. */
  messages(options?: AbortOptions): AsyncIterableIterator<Uint8Array>
  /**
   * Resolves when the link's path is `path` (at once if it already is).
   *
   * @throws {LifelineError} `LINK_CLOSED`, `ABORTED`
   */
  waitForPath(path: LinkPath, options?: AbortOptions): Promise<void>
  /**
   * A raw libp2p stream for bulk data on the best connection now (direct when there
   * is one). Not covered by the link's failover: the stream ends if its path dies.
   *
   * @throws {LifelineError} `LINK_CLOSED`, `UNSUPPORTED_PROTOCOL`, `ABORTED`
   */
  openStream(protocol: string, options?: AbortOptions): Promise<Stream>
  /** Close the link on both sides. */
  close(): Promise<void>
}
