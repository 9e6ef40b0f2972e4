/**
 * What one run of `pnpm bench:relay` found, as written to bench-relay-results.json.
 * Every figure is optional: a phase that failed part-way keeps what it measured,
 * and says why it stopped in `error`.
 */
import type { Failures } from './messages.js'

export type RelayName = 'lifeline' | 'stock'

export const RELAY_NAMES: readonly RelayName[] = ['lifeline', 'stock']

export const RELAY_TITLES: Readonly<Record<RelayName, string>> = {
  lifeline: 'lifeline-relay',
  stock: 'js-libp2p stock'
}

/** How the relay process fared over one phase. */
export interface RelayOutcome {
  /** Still running at the end of the phase, before the bench stopped it. */
  aliveAtEnd?: boolean | undefined
  /** How it ended when it ended by itself (a crash), e.g. "code 1" or "SIGABRT". */
  crashed?: string | undefined
  /** The bench killed it because its RSS passed the cap (see RELAY_RSS_CAP_BYTES). */
  killedForMemory?: boolean | undefined
  /** Exited within the stop timeout after SIGTERM. */
  stoppedCleanly?: boolean | undefined
  /** Its last stderr lines (warnings, errors, a crash), if it printed any. */
  stderrTail?: string[] | undefined
}

export interface Latency {
  p50: number
  p95: number
  max: number
}

export interface ReservationResult {
  attempted: number
  granted?: number | undefined
  /** Answers other than OK: the relay said no. */
  refused?: number | undefined
  /** Everything else: dial, handshake and stream errors, timeouts, crashed workers. */
  errors?: number | undefined
  failures?: Failures | undefined
  seconds?: number | undefined
  perSecond?: number | undefined
  latencyMs?: Latency | undefined
  /** Clients whose connection to the relay was still open after HOLD_SETTLE_MS. */
  held?: number | undefined
  /** Relay CPU over the hold, with nothing happening but what held connections cost (pings, timers), % of one core. */
  holdCpuPercent?: number | undefined
  /** That cost per held reservation: µs of relay CPU per second. One core holds 10^6 / this at most. */
  holdCpuMicrosecondsPerReservation?: number | undefined
  rssIdleBytes?: number | undefined
  rssHeldBytes?: number | undefined
  /** (held RSS - idle RSS) / reservations granted. */
  rssPerReservationBytes?: number | undefined
  peakRssBytes?: number | undefined
  /** Relay CPU while the reservations were made, % of one core. */
  cpuPercent?: number | undefined
  /** Relay CPU time per reservation granted, ms: the relay's cost, whatever the clients left it. */
  cpuMsPerReservation?: number | undefined
  relay: RelayOutcome
  error?: string | undefined
}

export interface CircuitResult {
  attempted: number
  /** Listeners that got their reservation (a circuit needs one). */
  reservations?: number | undefined
  open?: number | undefined
  refused?: number | undefined
  errors?: number | undefined
  failures?: Failures | undefined
  openSeconds?: number | undefined
  openPerSecond?: number | undefined
  latencyMs?: Latency | undefined
  rssIdleBytes?: number | undefined
  /** With every circuit open, before any data. */
  rssOpenBytes?: number | undefined
  /** Highest RSS sampled while data flowed. */
  rssPushMaxBytes?: number | undefined
  rssAfterPushBytes?: number | undefined
  peakRssBytes?: number | undefined
  pushSeconds?: number | undefined
  /** Bytes the clients received through their circuits in the push window, both directions. */
  bytesReceived?: number | undefined
  /** bytesReceived / pushSeconds, in MB/s (10^6 bytes). */
  megabytesPerSecond?: number | undefined
  perCircuitMegabytesPerSecond?: number | undefined
  circuitsBroken?: number | undefined
  cpuPercent?: number | undefined
  /** Relay CPU time per GB (10^9 bytes) delivered through its circuits, seconds. */
  cpuSecondsPerGigabyte?: number | undefined
  relay: RelayOutcome
  error?: string | undefined
}

export interface RelayResults {
  /** The relay's command line (after `node`). */
  command?: string[] | undefined
  reservations?: ReservationResult | undefined
  circuits?: CircuitResult | undefined
}

export interface BenchResults {
  date: string
  /** The commit the relay was built from, and whether packages/relay/src had uncommitted changes. */
  relaySource?: { commit: string, dirty: boolean } | undefined
  mode: 'full' | 'quick'
  machine: {
    cpus: number
    cpuModel: string
    memoryBytes: number
    node: string
    kernel: string
    /** 1-minute load average when the bench started and ended: other work on the machine skews every rate. */
    loadAverage: { start: number, end?: number | undefined }
  }
  /** `concurrency`: operations in flight at once over all workers. */
  sizes: { reservations: number, circuits: number, workers: number, pushMs: number, concurrency: number }
  relays: Record<RelayName, RelayResults>
  /** Set when the bench itself stopped early (watchdog, an error of its own). */
  incomplete?: string | undefined
}
