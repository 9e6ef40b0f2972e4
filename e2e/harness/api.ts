/**
 * The test API the harness page puts on `window.lifeline`. Tests call it through
 * `page.evaluate`, so every argument and result is plain JSON: errors come back as
 * `{ ok: false, code, message }` because `page.evaluate` would drop an error's `code`.
 */

import type { ConnectProgress, PeerStatus, RelayState } from '@lifeline/sdk'

export type PathName = 'relayed' | 'direct'

export interface StartOptions {
  relays: string[]
  /** Passed to `createPeer({ direct })`; the SDK's default when absent. */
  direct?: boolean
  /** Passed to `createPeer({ iceServers })`; none when absent. */
  iceServers?: RTCIceServer[]
  /** Passed to `createPeer({ reservations })`; the SDK's default when absent. */
  reservations?: number
}

export type Outcome<T = unknown> =
  | ({ ok: true, ms: number } & T)
  | { ok: false, ms: number, code: string | undefined, message: string }

export interface PathChangeRecord {
  path: PathName
  previous: PathName
  /** `Date.now()` in the page when the event fired. */
  at: number
}

export interface LinkSnapshot {
  /** False when this page never had a link to that peer. */
  known: boolean
  path: PathName | undefined
  rttMs: number | undefined
  closed: boolean
  direction: 'outbound' | 'inbound' | undefined
  /** Link objects this page has had for that peer (a new connect() after close, or a new inbound link, adds one). */
  links: number
}

export interface BlobRecord {
  size: number
  sha256: string
}

export interface SendProgress {
  sent: number
  done: boolean
  error: string | undefined
}

export interface NumberedSendOptions {
  count: number
  /** Pause `pauseMs` after every `pauseEvery` messages, to spread sending over time. */
  pauseEvery: number
  pauseMs: number
}

export interface DialRecord {
  /** From `connect()` called to resolved. */
  connectMs: number
  /** From `connect()` called to the link's path being 'direct'. */
  directMs: number
}

export interface ConnectSendRecord {
  /** `Date.now()` just before `connect()` was called (comparable across pages on one host). */
  startedAt: number
  /** From `connect()` called to resolved. */
  connectMs: number
}

/** One end of an ICE candidate pair, as getStats() reports it. */
export interface CandidateRecord {
  /** 'host', 'srflx', 'prflx' or 'relay'. */
  type: string
  address: string
  port: number
}

export interface CandidatePairRecord {
  local: CandidateRecord
  remote: CandidateRecord
}

export interface PeerConnectionCount {
  /** RTCPeerConnections the page has created. */
  created: number
  /** Of those, the ones not closed and not failed. */
  open: number
}

export interface TrackedConnectRecord {
  /** Every `onProgress` event of the call, in order. */
  progress: ConnectProgress[]
  /** The relay of the route that won the race (the `relayed` progress event). */
  relay: string | undefined
}

/**
 * Read from the link's entry in `status().links[]`. Both fields are undefined when the
 * SDK build does not report them (they were added to LinkStatus later).
 */
export interface LinkRouteRecord {
  /** Peer ID of the relay carrying the messages, while the path is relayed. */
  relayPeerId: string | undefined
  /** Paths the link has: the one in use plus spares. */
  paths: number | undefined
}

/** A relay's state as the peer's `relay` event reported it, recorded on each change of state. */
export interface RelayStateRecord {
  multiaddr: string
  state: RelayState
  failures: number
  lastError: string | undefined
  /** `Date.now()` in the page. */
  at: number
}

/** One `relay` event exactly as the peer dispatched it (it also fires for RTT updates). */
export interface RelayEventRecord {
  multiaddr: string
  state: RelayState
  /** The event's `slow` flag: a held relay that missed a ping but is not yet dead. */
  slow: boolean
  rttMs: number | undefined
  failures: number
  lastError: string | undefined
  /** `Date.now()` in the page. */
  at: number
}

export interface BulkOptions {
  /** One round of the transfer, e.g. 20 MB; a multiple of `chunkBytes`. */
  roundBytes: number
  /** Bytes per message; over 64 KiB, so the receiver records each as a blob. */
  chunkBytes: number
}

export interface BulkProgress {
  /** Complete rounds sent. */
  rounds: number
  /** Bytes of every message `send()` has taken so far. */
  bytesSent: number
  running: boolean
  error: string | undefined
  /** SHA-256 (hex) of the chunk every message repeats. */
  chunkSha256: string | undefined
}

/** The page's view of the network: the window's `online`/`offline` events and the peer's `online` event. */
export interface NetworkRecord {
  event: 'window-online' | 'window-offline' | 'peer-online' | 'peer-offline'
  at: number
}

export interface RoomMemberRecord {
  peerId: string
  /** The display name the member joined with (its metadata as text). */
  name: string
}

export interface RoomEventRecord {
  type: 'join' | 'leave'
  peerId: string
  name: string
}

export interface RoomMessageRecord {
  from: string
  text: string
}

/** The page's room (rooms.ts): one at a time. */
export interface RoomsApi {
  /** `peer.join(name)` with `displayName` as metadata. */
  joinRoom(name: string, displayName: string, autoConnect: boolean): Promise<Outcome>
  /** The other members, by name. */
  roomMembers(): RoomMemberRecord[]
  /** `room.send(text)`: to every member with an open link. */
  roomSend(text: string): Promise<Outcome>
  /** Room messages received, in arrival order. */
  roomMessages(): RoomMessageRecord[]
  /** Every join and leave event since joinRoom(), in order. */
  roomEvents(): RoomEventRecord[]
  leaveRoom(): Promise<Outcome>
}

export interface HarnessApi extends RoomsApi {
  /** Create and start this page's peer, wait until it is online; resolves to its peer ID. */
  start(options: StartOptions): Promise<string>
  /** Without `timeoutMs` no signal is passed, so the SDK's own deadline applies. */
  connect(peerId: string, timeoutMs?: number): Promise<Outcome>
  /** `connect()`, then wait for the direct path; `ms` is connect-to-direct. */
  dialDirect(peerId: string, timeoutMs: number): Promise<Outcome<DialRecord>>
  send(peerId: string, text: string): Promise<Outcome>
  /** `connect()` then `send(text)` at once; `startedAt` is when connect() was called. */
  connectAndSend(peerId: string, text: string, timeoutMs: number): Promise<Outcome<ConnectSendRecord>>
  /** Send "1".."count" in the background; watch with `numberedProgress()`. */
  startNumbered(peerId: string, options: NumberedSendOptions): void
  numberedProgress(peerId: string): SendProgress
  /** Send one message of `size` random bytes; resolves with its size and SHA-256. */
  sendPayload(peerId: string, size: number): Promise<Outcome<BlobRecord>>
  /** Text messages received from a peer, in arrival order (messages up to 64 KiB). */
  received(peerId: string): string[]
  /** `Date.now()` when each of `received(peerId)` arrived, in the same order. */
  receivedTimes(peerId: string): number[]
  /** Messages over 64 KiB received from a peer, as size and SHA-256 (hex). */
  receivedBlobs(peerId: string): BlobRecord[]
  link(peerId: string): LinkSnapshot
  /** Which relay carries the link and how many paths it has, as far as `status().links[]` reports it. */
  linkRoute(peerId: string): LinkRouteRecord
  /** `connect()` with an `onProgress` recorder: tells which relay the link started on. */
  connectTracked(peerId: string, timeoutMs: number): Promise<Outcome<TrackedConnectRecord>>
  /** Every change of a relay's state since start(), in order. */
  relayHistory(): RelayStateRecord[]
  /** Every `relay` event since start(), in order, slow flags and RTT updates included. */
  relayEvents(): RelayEventRecord[]
  /**
   * Send `roundBytes` in `chunkBytes` messages, again and again, until `stopBulk()`:
   * keeps the link busy in the background. Watch with `bulkProgress()`.
   */
  startBulk(peerId: string, options: BulkOptions): void
  /** Stops sending (a message still waiting for room is not sent); resolves with the final progress. */
  stopBulk(peerId: string): Promise<BulkProgress>
  bulkProgress(peerId: string): BulkProgress
  networkHistory(): NetworkRecord[]
  waitForPath(peerId: string, path: PathName, timeoutMs: number): Promise<Outcome>
  pathChanges(peerId: string): PathChangeRecord[]
  close(peerId: string): Promise<Outcome>
  status(): PeerStatus
  peerConnections(): PeerConnectionCount
  /** The selected ICE candidate pair of every open RTCPeerConnection of the page. */
  selectedPairs(): Promise<CandidatePairRecord[]>
  stop(): Promise<void>
  /** `createPeer()` + `start()` with these relays; the error code it failed with, if any. */
  tryCreatePeer(relays: string[]): Promise<Outcome>
  /** Start a second peer on the same relays, wait until online, stop it; resolves to its ID. */
  stoppedPeerId(relays: string[]): Promise<string>
}

declare global {
  interface Window {
    lifeline: HarnessApi
  }
}
