/**
 * What the bench page and the bench runner agree on: the scenarios, the page's URL
 * parameters, and the shape of a result. Imported by both (Vite and tsc).
 */

/**
 * One scenario is one pair of fresh browsers. Relayed figures get their own scenario
 * (a Lifeline peer with `direct: false`, a libp2p dial of a `/p2p-circuit` address), so
 * no direct connection exists to take their traffic.
 */
export const SCENARIOS = ['lifeline', 'lifeline-relayed', 'libp2p', 'libp2p-relayed', 'rtc'] as const
export type Scenario = typeof SCENARIOS[number]

export function isScenario (value: string): value is Scenario {
  return (SCENARIOS as readonly string[]).includes(value)
}

/** Browser A (namespace A, with the relay) opens the link and reports; B answers. */
export type Role = 'a' | 'b'

/** Bulk transfer size: 20 MB (MB = 10^6 bytes). */
export const BULK_BYTES = 20_000_000
/** Bulk message size: 64 KiB. */
export const CHUNK_BYTES = 64 * 1024
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

/** The page's query parameters. */
export interface PageParams {
  scenario: Scenario
  role: Role
  /** Names this pair's mailbox on the bench server. */
  session: string
  /** The relay's ws multiaddr, ending in /p2p/<relay id>. */
  relay: string
}

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

/** POSTed by either browser to /error/<session>. */
export interface ErrorReport {
  role: Role
  message: string
}
