/**
 * Every tunable of `pnpm bench:relay`, each with the reason for its value. Sizes
 * come in two sets: the full run the figures are quoted from, and `--quick` for
 * working on the bench (a sanity check in well under a minute).
 */

export interface BenchSizes {
  /** Reservations made as fast as the clients can, then held together. */
  reservations: number
  /** Pairs of peers, each pair one circuit through the relay carrying data. */
  circuits: number
  /** Client processes; the clients are split evenly over them. */
  workers: number
  /** How long every circuit pushes data, both ways at once. */
  pushMs: number
}

/**
 * The full run: 10,000 reservations is the relay's default cap (DEFAULT_MAX_RESERVATIONS
 * in src/constants.ts), 1,000 circuits half its default circuit cap. Ten worker
 * processes keep each client event loop at 1,000 connections, so a single client
 * loop is not what limits the relay.
 */
export const FULL_SIZES: BenchSizes = {
  reservations: 10_000,
  circuits: 1_000,
  workers: 10,
  pushMs: 10_000
}

/** `--quick` (or BENCH_RELAY_QUICK=1): every path runs, at a size that finishes in about a minute. */
export const QUICK_SIZES: BenchSizes = {
  reservations: 500,
  circuits: 50,
  workers: 4,
  pushMs: 3_000
}

/**
 * Reservations (or circuit set-ups) in flight at once over all workers. A relay has
 * one event loop and spends about 10 ms of CPU on a handshake, so a few dozen in
 * flight keep it busy; many more only queue inside it. Past about 10 s in its queue
 * a handshake hits both relays' handshake deadline (10 s) and all its work is
 * wasted, and then a relay serves fewer the harder it is pushed. At 64 in flight,
 * even a relay slowed to 10 handshakes a second answers within about 6 s.
 */
export const CONCURRENCY_TOTAL = 64

/**
 * One dial + handshake + HOP exchange may take this long before it counts as a
 * timeout. libp2p's own dial timeout is 10 s; a relay saturated with 250 handshakes
 * in flight answers within a few seconds, so 30 s only catches a stuck relay.
 */
export const OPERATION_TIMEOUT_MS = 30_000

/**
 * No new reservation or circuit starts after this; operations in flight still get
 * OPERATION_TIMEOUT_MS. On this 2-core machine a reservation costs the relay and
 * the client about 10 ms of CPU each, so 10,000 take 2-3 minutes of two cores
 * shared; 150 s fits 10,000 at 67 a second, and a slower relay is a result (fewer
 * held), not a reason to run past the 10-minute whole.
 */
export const PHASE_BUDGET_MS = 150_000

/**
 * After the last reservation, wait this long before reading the relay's memory and
 * counting what is still held: longer than libp2p's connection-monitor interval
 * (10 s, both relays ping every connection) and lifeline-relay's sweep (5 s), so
 * the figure includes one round of each over all held connections.
 */
export const HOLD_SETTLE_MS = 12_000

/** Let a freshly started relay finish its start-up allocations before its idle RSS is read. */
export const IDLE_SETTLE_MS = 1_000

/** How often the relay's RSS is sampled during a timed phase, for its peak. */
export const RSS_SAMPLE_INTERVAL_MS = 250

/**
 * Payload of one send on a circuit. 64 KiB fills one Noise frame (65,519 bytes of
 * payload) and a bit, so per-call overhead in the client stays small next to the
 * bytes moved; the relay sees the same frames a bulk transfer makes.
 */
export const PUSH_CHUNK_BYTES = 64 * 1024

/**
 * The bench kills a relay whose RSS passes this, and reports it: the machine has
 * 24 GiB and no swap, another engineer runs tests on it, and a relay that buffers
 * without bound (yamux windows grow to 16 MiB per stream by default) could
 * otherwise take the kernel's OOM killer to someone else's process.
 */
export const RELAY_RSS_CAP_BYTES = 8 * 1024 ** 3

/** A relay must print its address within this; start-up takes under a second. */
export const RELAY_START_TIMEOUT_MS = 20_000

/** A worker starts and makes up to a few thousand identities (two key pairs and a signature each) in this. */
export const WORKER_PREPARE_TIMEOUT_MS = 90_000

/** A relay (or worker) gets this long to exit after SIGTERM before its process group is killed. */
export const STOP_TIMEOUT_MS = 8_000

/**
 * Last resort for the whole run: past this every process is killed and what was
 * measured so far is reported. A full run takes 4-6 minutes.
 */
export const WATCHDOG_MS = 12 * 60_000

/**
 * Linux's USER_HZ: /proc/PID/stat counts CPU time in these ticks. It is 100 on
 * every mainstream architecture (the kernel ABI fixes it, whatever CONFIG_HZ is).
 */
export const CLOCK_TICKS_PER_SECOND = 100

/**
 * Client workers run at this niceness, the relays at the normal 0: clients and
 * relay share 2 cores, and the relay under test should get its core first, so that
 * what is measured is the relay's capacity rather than the scheduler's fairness.
 */
export const WORKER_NICENESS = 10

/** Lines of a child's stderr kept for the report when it fails. */
export const STDERR_TAIL_LINES = 20

/** Distinct failure kinds kept per phase; one example message is kept for each. */
export const MAX_FAILURE_KINDS = 20

/**
 * Caps raised on both relays so that what is measured is capacity, not a policy
 * limit. Every client dials from 127.0.0.1 (a libp2p Node client cannot choose its
 * source address), so lifeline-relay's per-IP caps must hold the whole bench;
 * libp2p's per-host inbound rate limit (5 a second by default) must too.
 */
export const LIMIT_HEADROOM = 2

/** Connections per second allowed from one source and in total: far above what 2 cores can handshake. */
export const UNLIMITED_RATE = 1_000_000
