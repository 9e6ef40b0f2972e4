/**
 * Every tunable of `pnpm bench:rooms`, each with the reason for its value. The
 * sizes have a full set (the figures in BENCH.md) and `--quick` (working on the
 * bench); BENCH_ROOMS_MEMBERS, BENCH_ROOMS_ROOM_SIZE, BENCH_ROOMS_WORKERS,
 * BENCH_ROOMS_PROBES and BENCH_ROOMS_IDLE_SECONDS override either.
 */

export interface RoomsBenchSizes {
  /** Room members in all, each a separate peer with its own connection. */
  members: number
  /**
   * Members per room. Rooms are spread evenly over the relays, so with 3 relays a
   * room of 25 has 8-9 members on each and every member has observers on its own
   * relay and on the others.
   */
  roomSize: number
  /** Client processes; each holds whole rooms, so a member and its observers share a clock. */
  workers: number
  /** Leave-and-join cycles timed once every member has joined, over all workers. */
  probes: number
  /** The idle window over which Redis commands and relay CPU are counted. */
  idleMs: number
}

/**
 * The full run: 1,000 members in rooms of 25 (40 rooms). 25 is well under the
 * relay's 64 members per room and relay (DEFAULT_MAX_ROOM_MEMBERS), the size of a
 * room whose members keep a WebRTC mesh. Four workers of 250 clients keep each
 * client event loop light enough that it does not add to the latencies.
 *
 * The idle window is 20 s, not a minute: four of the relays' refresh rounds
 * (presence TTL 20 s / 4 = every 5 s) and four re-reads of each room, so it holds
 * whole rounds of everything a relay does periodically; counts are scaled to a
 * minute. Set BENCH_ROOMS_IDLE_SECONDS=60 for a full minute.
 */
export const FULL_SIZES: RoomsBenchSizes = {
  members: 1_000,
  roomSize: 25,
  workers: 4,
  probes: 200,
  idleMs: 20_000
}

/** `--quick` (or BENCH_ROOMS_QUICK=1): every phase runs, in about a minute. */
export const QUICK_SIZES: RoomsBenchSizes = {
  members: 150,
  roomSize: 25,
  workers: 2,
  probes: 20,
  idleMs: 5_000
}

/** Relays of the fleet. Three is the smallest fleet where a member has two other relays to be seen on. */
export const FLEET_RELAYS = 3

/**
 * Clients dial from 127.0.0.2 up to 127.0.0.(1 + this), round robin: a relay counts
 * its per-source limits per IPv4 address, so 1,000 clients are 40 sources of 25
 * each, all within the relay's default per-source caps (128 connections and
 * reservations, 32 handshakes in flight, 16 new connections a second). The relays
 * then run with their default per-source limits.
 */
export const SOURCE_ADDRESSES = 40

/**
 * New connections a second each worker makes to each relay is this divided by the
 * workers: 40 a second per relay over all workers, under the relay's default of 50
 * a second in total (DEFAULT_CONNECTION_RATE), so no connection is refused for its
 * rate and the relays run with that default too.
 */
export const CONNECT_RATE_PER_RELAY = 40

/**
 * Connections (or JOINs) in flight at once over all workers. A relay spends about
 * 10-25 ms of CPU on a handshake on this machine, so a few dozen keep three relays
 * busy, and 48 stays within the relay's 512 handshakes in flight and, spread over
 * 40 sources, its 32 per source.
 */
export const CONCURRENCY_TOTAL = 48

/** One connect + RESERVE, or one JOIN up to its SNAPSHOT, may take this before it counts as a timeout. */
export const OPERATION_TIMEOUT_MS = 30_000

/**
 * No connection starts after this. 1,000 members on one relay at 40 a second take
 * 25 s; 120 s leaves a slow, loaded machine room, and what did not start is counted.
 */
export const CONNECT_BUDGET_MS = 120_000

/** No JOIN starts after this; a JOIN costs the relay a signature check and a broadcast. */
export const JOIN_BUDGET_MS = 90_000

/**
 * After the last JOIN, how long the workers wait for the JOINED events still on
 * their way before counting what an observer never saw.
 */
export const JOIN_SETTLE_MS = 3_000

/** An observer must see a probe's JOINED or LEFT within this, or it counts as not seen. */
export const EVENT_TIMEOUT_MS = 10_000

/** No probe cycle starts after this. A cycle takes well under a second on an idle fleet. */
export const PROBE_BUDGET_MS = 90_000

/** Let freshly started relays finish their start-up allocations before idle RSS is read. */
export const IDLE_SETTLE_MS = 1_000

/**
 * After the joins, before the RSS is read and the idle window starts: lets the last
 * events drain and one refresh round (5 s) pass, so the window starts in the steady state.
 */
export const STEADY_SETTLE_MS = 5_000

/** Largest RoomEvent a client accepts: a SNAPSHOT of 64 members with 4 KiB of metadata each is ~280 KiB. */
export const MAX_EVENT_BYTES = 1024 * 1024

/** Bytes of metadata each member publishes: a display name, as an app would. */
export const METADATA_BYTES = 24

/** The namespace the bench's room topics are made with (rooms.proto: SHA-256 of namespace and name). */
export const ROOM_NAMESPACE = 'lifeline-bench-rooms'

/** redis-server must say it is ready within this. */
export const REDIS_START_TIMEOUT_MS = 10_000

/** A worker makes up to a few hundred identities (two key pairs and a signature each) in this. */
export const WORKER_PREPARE_TIMEOUT_MS = 60_000

/** A worker answers a timed command within its budget plus this (IPC, a busy event loop). */
export const ANSWER_SLACK_MS = 20_000

/** A worker counts its members' state in well under this. */
export const CHECK_TIMEOUT_MS = 20_000

/**
 * Last resort for the whole run: past this every process is killed and what was
 * measured so far is reported. A full run takes 3-5 minutes.
 */
export const WATCHDOG_MS = 15 * 60_000
