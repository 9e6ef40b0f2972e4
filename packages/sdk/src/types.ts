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
export type RelayTransport = 'wss' | 'ws' | 'webrtc-direct' | 'webtransport' | 'other'

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

export interface PeerStatus {
  peerId: string
  started: boolean
  /** True while at least one relay holds a reservation for this peer. */
  online: boolean
  relays: RelayStatus[]
  links: LinkStatus[]
  /** Multiaddrs other peers can use to reach this one. */
  addresses: string[]
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
   * carries messages; a direct WebRTC path is tried in the background.
   *
   * @throws {LifelineError} `INVALID_PEER_ID`, `NOT_STARTED`, `PEER_UNREACHABLE`,
   * `RELAY_UNREACHABLE`, `ABORTED`, `TIMEOUT`
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
