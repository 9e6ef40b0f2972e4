/**
 * What the bench page and the bench runner agree on: the scenarios, the page's URL
 * parameters, and the shape of a result. Imported by both (Vite and tsc).
 */

/**
 * One scenario is one pair of fresh browsers. Relayed figures get their own scenario
 * (a Lifeline peer with `direct: false`, a libp2p dial of a `/p2p-circuit` address), so
 * no direct connection exists to take their traffic.
 */
export const SCENARIOS = [
  'lifeline', 'lifeline-relayed', 'libp2p', 'libp2p-relayed', 'rtc',
  // the relayed path over each other relay transport (lifeline-relayed: plain WebSockets)
  'lifeline-relayed-wss', 'lifeline-relayed-webrtc-direct',
  // faults (failover.ts): UDP blocked under a direct link, a relay killed under a relayed one
  'lifeline-failover', 'lifeline-relay-failover', 'libp2p-failover',
  // idle cost (idle.ts): relay bytes per reserved peer and per idle direct link
  'lifeline-idle', 'libp2p-idle'
] as const
export type Scenario = typeof SCENARIOS[number]

export function isScenario (value: string): value is Scenario {
  return (SCENARIOS as readonly string[]).includes(value)
}

/** Browser A (namespace A, with the relay) opens the link and reports; B answers. */
export type Role = 'a' | 'b'

/** Bulk transfer size: 20 MB (MB = 10^6 bytes). */
export const BULK_BYTES = 20_000_000
/** The file of the steady-progress figure (Lifeline scenarios): 50 MB. */
export const FILE_BYTES = 50_000_000
/** Bulk message size: 64 KiB. */
export const CHUNK_BYTES = 64 * 1024
/**
 * Bytes put through JavaScript ChaCha20-Poly1305 for the cipher figures (relayed
 * throughput's ceiling): 8 MB, a fraction of a second at the speeds seen here.
 */
export const CIPHER_BYTES = 8_000_000
/** Echo round trips per RTT figure; the figure is their median. */
export const PINGS = 50
/** Size of one echo message. */
export const PING_BYTES = 16
/** The first message after connecting. */
export const FIRST_MESSAGE = 'hello'

/**
 * The page gives up and reports an error after this long; the runner kills both
 * browsers a little later.
 */
export const PAGE_DEADLINE_MS = 50_000
/**
 * The idle scenarios wait through two settle times and two windows (about 45 s of
 * waiting alone), so they get this long.
 */
export const IDLE_PAGE_DEADLINE_MS = 90_000

export function pageDeadlineMs (scenario: Scenario): number {
  return scenario === 'lifeline-idle' || scenario === 'libp2p-idle' ? IDLE_PAGE_DEADLINE_MS : PAGE_DEADLINE_MS
}

/** The page's query parameters. */
export interface PageParams {
  scenario: Scenario
  role: Role
  /** Names this pair's mailbox on the bench server. */
  session: string
  /** The relay's ws multiaddr, ending in /p2p/<relay id>. */
  relay: string
  /** A second relay (same host, another port): the relay failover scenario uses both. */
  relay2: string
  /** A third relay, serving TLS: its WSS address (`/tls/ws`) ... */
  relayWss: string
  /** ... and its WebRTC-Direct address (`/webrtc-direct/certhash/...`). */
  relayWebrtcDirect: string
  /** `1` when the runner asks for CPU profiles of the bulk transfers (BENCH_PROFILE=1, see page/profile.ts). */
  profile?: string | undefined
}

/**
 * Fault scenarios: browser A streams STREAM_MESSAGE_BYTES messages, one every
 * STREAM_INTERVAL_MS, asks the runner for a fault after STREAM_BEFORE_FAULT_MS, and keeps
 * streaming until the link has recovered; B notes when each message arrives.
 */
export const STREAM_INTERVAL_MS = 5
/** Sequence number (u32), end flag (u32), send time (f64). */
export const STREAM_MESSAGE_BYTES = 16
export const STREAM_BEFORE_FAULT_MS = 1500
/**
 * Then the fault comes at a uniformly random moment within one interval of the
 * implementation's own liveness check, so its detection time is not an artefact of the
 * bench's fixed timing: Lifeline pings every path every 500 ms (the SDK's
 * PING_INTERVAL_MS, not exported); js-libp2p's connection monitor pings every connection
 * every 10 s (its default pingInterval), on a timer started with the node.
 */
export const FAULT_PHASE_MS = { lifeline: 500, libp2p: 10_000 } as const

/**
 * What a page asks the runner to break, by POSTing it to /fault/<session> (printed as
 * `fault <session> <json>`): `block-udp` drops all UDP in namespace B (WebRTC dies, TCP
 * lives); `kill-relay` SIGKILLs the relay process whose port carried the most bytes in
 * the moment before. Not a fault, but done the same way: `count-relay-bytes` counts the
 * bytes relay 1 receives and sends (every packet, headers included) for `windowMs`.
 */
export type FaultKind = 'block-udp' | 'kill-relay' | 'count-relay-bytes'

export interface FaultRequest {
  kind: FaultKind
  /** count-relay-bytes: how long to count. */
  windowMs?: number
  /** The mailbox key the answer goes to (`fault` by default); a page asking twice needs two. */
  key?: string
}

/** The runner's answer, in the session's mailbox under `fault`. */
export interface FaultDone {
  kind: FaultKind
  /** Date.now() right after the fault took effect (nft returned; the kill signal was sent). */
  at: number
  /** Date.now() right before the runner started it. */
  startedAt: number
  /** kill-relay: which relay (1 or 2) was killed, and the bytes each relay port received in the sampling window. */
  relay?: number
  relayBytes?: number[]
  /** count-relay-bytes: bytes through relay 1's port, both directions, within the window. */
  bytes?: number
}

/**
 * Idle scenarios: both peers reserve on relay 1, wait IDLE_SETTLE_MS and have the runner
 * count the relay's traffic for IDLE_WINDOW_MS; then A links to B (direct), waits again
 * and has it counted once more. The window takes in a whole cycle of each side's
 * slowest periodic timer (Lifeline pings an idle relay every 15 s and an idle path every
 * 10 s; js-libp2p's connection monitor pings every 10 s), so a figure does not depend
 * on whether one ping fell inside it.
 */
export const IDLE_WINDOW_MS = 15_000
/**
 * Reservation, identify and the direct upgrade leave a burst of traffic behind them, and
 * Lifeline keeps pinging at the busy pace for 5 s after a path or relay last carried
 * data (its PATH_BUSY_MS and RELAY_BUSY_MS): idle starts after that.
 */
export const IDLE_SETTLE_MS = 6000

/**
 * Figures measured in one run of one scenario, in ms or MB/s as their names say.
 * Times spanning both browsers use each page's `performance.timeOrigin + now()`: both
 * read the same host clock.
 */
export type Metrics = Record<string, number>

/** POSTed by browser A to /result/<session>, printed by the server as `result <session> <json>`. */
export interface ResultReport {
  scenario: Scenario
  metrics: Metrics
  /** Raw samples behind figures that are themselves medians (RTT). */
  samples: Record<string, number[]>
}

/** POSTed by either browser to /profile/<session> when profiling (page/profile.ts). */
export interface ProfileSummary {
  scenario: Scenario
  role: Role
  /** What was profiled: `bulk` (the 20 MB transfer) or `connect` (Lifeline's connect() to the first message). */
  phase: string
  /** Samples taken, and those with no JavaScript on the stack (idle, or the browser's own work). */
  samples: number
  idleSamples: number
  sampleIntervalMs: number
  /** Functions by self samples, most first: `name (resource:line)`. */
  top: Array<{ fn: string, self: number, percent: number, callers: string[] }>
}

/** POSTed by either browser to /error/<session>. */
export interface ErrorReport {
  role: Role
  message: string
}
