/**
 * Every tunable of the relay, each with the reason for its value. Flags and
 * environment variables override the ones marked as defaults.
 */

/**
 * Loopback by default: a relay reachable from other machines is a deliberate
 * choice (`--host 0.0.0.0`), not something a first run does by accident.
 */
export const DEFAULT_HOST = '127.0.0.1'

/** 4001 is the customary libp2p port (go-libp2p, Kubo), so firewall rules often exist for it. */
export const DEFAULT_PORT = 4001

/** Relative to the working directory, so a relay started twice in one place keeps its peer ID. */
export const DEFAULT_KEY_FILE = './relay.key'

/** Owner read/write only: the key file is the relay's identity. */
export const KEY_FILE_MODE = 0o600

/**
 * libp2p's default is 15 reservations, sized for a node that relays as a side job.
 * A Lifeline relay is a dedicated, always-on fallback for every peer behind it.
 */
export const DEFAULT_MAX_RESERVATIONS = 1024

/**
 * Two hours, the same as libp2p and the Circuit Relay v2 spec's examples; clients
 * refresh five minutes before expiry, so a longer TTL only delays cleaning up
 * peers that vanished.
 */
export const DEFAULT_RESERVATION_TTL_SECONDS = 2 * 60 * 60

/**
 * Circuits one peer may have open through the relay at once, in each direction:
 * circuits it opened (HOP streams on its connection) and circuits opened to it
 * (STOP streams). Each Lifeline link needs one circuit, so 64 covers a peer linked
 * to 64 others; libp2p's defaults are 32 HOP and 300 STOP streams.
 */
export const DEFAULT_MAX_CIRCUITS_PER_PEER = 64

/**
 * The largest delay Node timers accept (2^31 - 1 ms, about 24.8 days); libp2p
 * turns duration limits and reservation TTLs into timers, and a larger value
 * would fire after 1 ms instead.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * Stand-in for "no duration limit" when only a byte limit is set: libp2p applies
 * both limits or neither, and fills an unset one with its 2-minute default.
 */
export const UNLIMITED_DURATION_MS = MAX_TIMER_MS

/**
 * Stand-in for "no data limit" when only a duration limit is set: the largest
 * value of the uint64 field the limit travels in (Circuit Relay v2 `Limit.data`).
 */
export const UNLIMITED_DATA_BYTES = 2n ** 64n - 1n

/** Every connected peer holds one connection; libp2p's default of 300 would cap the relay at 300 peers. */
export const MAX_CONNECTIONS = 4096

/**
 * libp2p refuses a host that opens more than 5 connections a second. Many peers
 * share one address behind carrier-grade NAT or in a test run, so allow more.
 */
export const INBOUND_CONNECTION_THRESHOLD = 100

/** Connections still in their handshake; libp2p's default of 10 is for a node, not a shared relay. */
export const MAX_INCOMING_PENDING_CONNECTIONS = 256

/** The namespace for `DEBUG=lifeline:relay*`. */
export const LOG_NAMESPACE = 'lifeline:relay'

/**
 * How long a signal-triggered shutdown may take before the process exits anyway;
 * libp2p closes connections with a 1 s timeout each, in parallel.
 */
export const SHUTDOWN_TIMEOUT_MS = 5_000
