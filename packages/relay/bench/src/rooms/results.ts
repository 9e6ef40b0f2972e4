/**
 * What one run of `pnpm bench:rooms` found, as written to bench-rooms-results.json.
 * Every figure is optional: a setup that failed part-way keeps what it measured
 * and says why it stopped in `error`.
 */
import type { Failures } from '../messages.js'
import type { RelayOutcome } from '../results.js'

/** The fleet under test, and the baseline: the same members on one relay with its directory in memory. */
export type SetupName = 'fleet' | 'single'

export const SETUP_NAMES: readonly SetupName[] = ['fleet', 'single']

export const SETUP_TITLES: Readonly<Record<SetupName, string>> = {
  fleet: '3 relays + Redis',
  single: '1 relay, in memory'
}

export interface Percentiles {
  count: number
  p50: number
  p99: number
  max: number
}

/** Latencies by observer: on the member's relay, or on another relay of the fleet. */
export interface SplitLatency {
  same?: Percentiles | undefined
  other?: Percentiles | undefined
}

export interface RelayFigures {
  /** The relay's command line (after `node`). */
  command: string[]
  /** Members assigned to it. */
  members: number
  /** Members joined on it at the last check. */
  joined?: number | undefined
  /** Started and settled, nothing connected. */
  rssIdleBytes?: number | undefined
  /** Every member connected and reserved, none joined. */
  rssReservedBytes?: number | undefined
  /** Every member joined, after STEADY_SETTLE_MS. */
  rssJoinedBytes?: number | undefined
  /** After the idle window. */
  rssAfterIdleBytes?: number | undefined
  peakRssBytes?: number | undefined
  /** Relay CPU over the idle window, seconds. */
  idleCpuSeconds?: number | undefined
  outcome: RelayOutcome
}

export interface RedisFigures {
  command: string[]
  /** Commands (Lua's own included, the bench's INFO not) while the members connected and reserved. */
  connectCommands?: number | undefined
  /** The same while they joined. */
  joinCommands?: number | undefined
  /** The same over the idle window. */
  idleCommands?: number | undefined
  /** Idle window calls by command. */
  idleCalls?: Record<string, number> | undefined
  /** redis-server CPU over the idle window, seconds. */
  idleCpuSeconds?: number | undefined
  usedMemoryIdleBytes?: number | undefined
  usedMemoryJoinedBytes?: number | undefined
  aliveAtEnd?: boolean | undefined
  outputTail?: string[] | undefined
}

export interface ViewCheck {
  connected: number
  joined: number
  /** Joined members by relay. */
  joinedPerRelay: number[]
  /** Joined members whose view of their room is exactly its joined members. */
  completeViews: number
  /** JOIN streams that ended without their member leaving. */
  lostStreams: number
}

export interface ProbeResult {
  /** Leave-and-join cycles run. */
  samples: number
  /** JOIN sent -> each observer's JOINED. */
  join: SplitLatency
  /** JOIN stream closed -> each observer's LEFT. */
  leaveClose: SplitLatency
  /** Connection ended (socket closed, no goodbye) -> each observer's LEFT. */
  leaveKill: SplitLatency
  /** Observer events not seen within EVENT_TIMEOUT_MS. */
  missed: { join: number, leaveClose: number, leaveKill: number }
}

export interface SetupResult {
  relays: RelayFigures[]
  redis?: RedisFigures | undefined
  members: number
  connected?: number | undefined
  connectSeconds?: number | undefined
  joined?: number | undefined
  joinSeconds?: number | undefined
  /** Answers other than OK from a relay (RESERVE refused, JOIN answered ERROR). */
  refused?: number | undefined
  /** Everything else that failed: dials, timeouts, lost streams, crashed workers. */
  errors?: number | undefined
  failures?: Failures | undefined
  /** While all members joined: JOIN -> the member's own SNAPSHOT. */
  snapshotMs?: Percentiles | undefined
  /** While all members joined: JOIN -> each observer already in the room reading JOINED. */
  joinVisibleMs?: SplitLatency | undefined
  /** Observers already in the room that never read a member's JOINED during the join phase. */
  joinMissed?: number | undefined
  /** After the joins settled. */
  checkAfterJoin?: ViewCheck | undefined
  /** After the idle window. */
  checkAfterIdle?: ViewCheck | undefined
  idleSeconds?: number | undefined
  /** (joined RSS - idle RSS) / members joined, over all relays: connection, reservation and membership. */
  rssPerMemberBytes?: number | undefined
  /** (joined RSS - reserved RSS) / members joined: the membership alone. */
  rssPerMembershipBytes?: number | undefined
  /** All relays' CPU over the idle window, % of one core. */
  relayIdleCpuPercent?: number | undefined
  /** All relays' idle CPU per member per minute, ms. */
  relayCpuMsPerMemberMinute?: number | undefined
  redisCommandsPerMemberMinute?: number | undefined
  /** Redis commands while the members joined, per member joined: each JOIN's and the refresh rounds that fell in the phase. */
  redisCommandsJoiningPerMember?: number | undefined
  /** The same while they connected and reserved. */
  redisCommandsReservingPerMember?: number | undefined
  redisCpuMsPerMemberMinute?: number | undefined
  redisMemoryPerMemberBytes?: number | undefined
  probes?: ProbeResult | undefined
  error?: string | undefined
}

export interface LoadSample {
  /** What was about to happen, e.g. "fleet: connect". */
  at: string
  /** 1, 5 and 15 minute load averages. */
  load: number[]
}

export interface RoomsBenchResults {
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
    redis?: string | undefined
    /** Load averages at each phase: other work on the machine skews every latency. */
    load: LoadSample[]
  }
  sizes: { members: number, roomSize: number, rooms: number, workers: number, probes: number, idleMs: number, concurrency: number, connectRatePerRelay: number, sourceAddresses: number }
  setups: Partial<Record<SetupName, SetupResult>>
  /** Set when the bench itself stopped early (watchdog, an error of its own). */
  incomplete?: string | undefined
}
