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
 * Reservations held at once over the whole relay. Each holds one connection:
 * `pnpm bench:relay` measured 53 KiB of RSS and 19 µs of CPU a second per held
 * reservation, so 10,000 take about 600 MiB and a fifth of a core. libp2p's default
 * of 15 is for a node that relays as a side job.
 */
export const DEFAULT_MAX_RESERVATIONS = 10_000

/**
 * Reservations one source (IPv4 address or IPv6 /64) may hold. Carrier-grade NATs
 * put from tens to a few hundred subscribers behind one address (RFC 6888 port
 * blocks of 512-2048 ports); 128 lets that many users of one app in, while one host
 * with throwaway identities takes at most 1.3 % of the relay.
 */
export const DEFAULT_MAX_RESERVATIONS_PER_SOURCE = 128

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

// ---- Admission: what a source may open (guard/source-limits.ts) ----

/**
 * Connections open at once. Every reserved peer holds one, and peers that only
 * dial through the relay hold one each; the rest is headroom for them.
 */
export const DEFAULT_MAX_CONNECTIONS = 12_000

/** Connections one source may hold: one per peer, so the same CGNAT reasoning as reservations. */
export const DEFAULT_MAX_CONNECTIONS_PER_SOURCE = 128

/**
 * New connections a second over the whole relay. A connection's handshake and
 * reservation cost the relay 8-10 ms of CPU on a 2-core test machine
 * (`pnpm bench:relay`), and the relay runs on one event loop: 50 a second keeps a
 * flood of handshakes to about half of it, leaving the rest to the circuits already
 * open. 10,000 peers reconnect after a restart in about 200 s, spread by their own
 * jittered backoff. Bursts of one second's worth are allowed.
 */
export const DEFAULT_CONNECTION_RATE = 50

/**
 * New connections a second from one source. A page opens one per relay and again
 * only after losing it; 16 a second with a burst of a whole source's connection cap
 * lets a CGNAT's users reconnect together and stops one host from taking the
 * global rate.
 */
export const DEFAULT_CONNECTION_RATE_PER_SOURCE = 16

/**
 * Connections still in their handshake (TCP, HTTP upgrade, Noise, Yamux). A
 * handshake takes a few round trips plus its turn on a busy event loop, so at a
 * 300 ms RTT a few hundred may be in flight; 512 leaves room and caps the sockets a
 * slowloris flood can hold before their deadlines close them.
 */
export const DEFAULT_MAX_PENDING_CONNECTIONS = 512

/** Handshakes one source may have in flight: a CGNAT's burst of reconnects at a 300 ms RTT. */
export const DEFAULT_MAX_PENDING_PER_SOURCE = 32

/**
 * libp2p's own connection manager caps sit above the relay's, so the listener's
 * admission (which counts per source and says why) is what refuses.
 */
export const LIBP2P_CAP_HEADROOM = 1.25

// ---- Deadlines: how long each stage of a connection may take (listen/) ----

/**
 * From TCP accept to a completed WebSocket upgrade: one HTTP request of a few
 * hundred bytes. 10 s is many round trips on the worst mobile link; a slowloris
 * client or a silent TCP socket is closed when it runs out.
 */
export const DEFAULT_UPGRADE_TIMEOUT_MS = 10_000

/**
 * From the WebSocket upgrade to an established libp2p connection: multistream-select,
 * the three Noise messages and Yamux, about four round trips plus a few ms of CPU on
 * each side. libp2p's own inbound upgrade timeout is 10 s; a stalled handshake holds
 * a pending slot, so it gets the same.
 */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000

/**
 * From TCP accept to a finished TLS handshake, when the relay serves TLS itself
 * (`--tls-cert`). TLS 1.3 takes one round trip and TLS 1.2 two, plus a signature of
 * a few ms: 5 s is still many round trips on a bad mobile link. Node's default is
 * 120 s, during which a socket that opened TCP and sent nothing would hold a pending
 * slot of its source.
 */
export const DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS = 5_000

/**
 * How long the certificate files must stay unchanged before they are loaded again.
 * certbot replaces the files of a renewed certificate (cert, chain, fullchain,
 * privkey) one rename after another; loading at the first rename would pair the new
 * certificate with the old key. A second is far longer than those renames take.
 */
export const TLS_RELOAD_DEBOUNCE_MS = 1_000

/**
 * A connection that holds neither a reservation nor a circuit serves nobody. Peers
 * reserve within a second or two of connecting, and the SDK's relay pool reserves
 * right after its dial; a minute covers slow starts and a peer between circuits.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000

/**
 * TCP keepalive on every accepted socket: the kernel probes a connection that has
 * been silent this long, so a peer that vanished without a FIN (a dropped NAT
 * mapping, a pulled cable) is closed at no cost to the event loop. libp2p's
 * connection monitor, which opens a ping stream to every peer every 10 s, is off:
 * it cost the relay about 0.1 ms a second and 100 KiB per held connection (a whole
 * core for 10,000; `pnpm bench:relay`), and peers ping their relays themselves.
 */
export const TCP_KEEPALIVE_IDLE_MS = 30_000

/** How often idle connections and expired reservations are looked for. */
export const SWEEP_INTERVAL_MS = 5_000

/**
 * The whole HOP exchange: read one request, answer it, and for CONNECT open the
 * destination's STOP stream and hear its answer (2-3 round trips). libp2p uses 30 s.
 */
export const HOP_TIMEOUT_MS = 30_000

// ---- Sizes: what one connection and one circuit may hold ----

/**
 * Largest WebSocket message accepted. libp2p's WebSocket connection sends each
 * buffer of a write as its own message, and past the handshake every buffer is
 * part of one Noise transport message: at most 65535 bytes (the Noise spec's cap)
 * plus its 2-byte length prefix. Measured during a 1 MiB relayed echo between two
 * js-libp2p peers: 632 messages, the largest 65,493 bytes, none in between 1 KiB and
 * 32 KiB (Noise frames are sent whole, never batched). `ws` accepts 100 MiB by
 * default, buffered before the relay sees a byte.
 */
export const MAX_WS_MESSAGE_BYTES = 65_535 + 2

/** An upgrade request is a few hundred bytes of headers; Node allows 16 KiB. */
export const MAX_HTTP_HEADER_BYTES = 8 * 1024

/**
 * Outgoing bytes queued on one socket before the relay stops writing to it (and so
 * pauses every circuit feeding it). 1 MiB is a few round trips at tens of MB/s.
 */
export const MAX_SOCKET_BUFFERED_BYTES = 1024 * 1024

/**
 * What one circuit may hold in the relay in each direction: the Yamux stream
 * window (which is also the 256 KiB minimum the Yamux spec allows), kept from
 * growing. When the receiving side is slow the relay stops granting window, so a
 * sender can never push more than this ahead of its reader. It caps one circuit at
 * window / RTT (256 KiB at 10 ms: 25 MB/s between relay and peer).
 */
export const CIRCUIT_WINDOW_BYTES = 256 * 1024

/**
 * Memory all circuits may hold at once, both directions: with the window above,
 * 1 GiB allows 2048 circuits carrying data at once; a CONNECT beyond that is
 * answered RESOURCE_LIMIT_EXCEEDED.
 */
export const DEFAULT_CIRCUIT_BUFFER_BUDGET_BYTES = 1024 * 1024 * 1024

/**
 * Yamux streams one connection may open on the relay: one HOP stream per circuit it
 * opened (capped by --max-circuits) plus identify, ping and a reservation. Every
 * stream may hold a window of data, so this bounds a connection's memory.
 */
export const STREAMS_PER_CONNECTION_HEADROOM = 8

/** Largest HOP or STOP message: a peer ID and a few addresses, never kilobytes. */
export const MAX_HOP_MESSAGE_BYTES = 4 * 1024

/**
 * Ping streams one connection may have open at once. A Lifeline peer overlaps up to
 * three pings to a relay that is slow to answer (the SDK's RELAY_PINGS_IN_FLIGHT);
 * libp2p's default of two refused the third, and a refused ping counts as a miss.
 */
export const PING_STREAMS_PER_CONNECTION = 4

// ---- WebRTC-Direct (listen/webrtc-direct-listener.ts, listen/webrtc-direct-certificate.ts) ----

/**
 * The DTLS certificate of the WebRTC-Direct listener lives beside the key file, in
 * `<keyFile>` plus this suffix: both make up the relay's identity and are backed up
 * together.
 */
/**
 * Chromium pairs no ICE candidate with a remote port below this (WebRTC's defence
 * against cross-protocol attacks on well-known ports): measured in the e2e lab, a
 * page never sent a STUN request to a relay's WebRTC-Direct listener on UDP 443,
 * and reserved at once over the same relay on UDP 9443. The CLI warns about a lower
 * `--webrtc-direct` port.
 */
export const BROWSER_MIN_WEBRTC_PORT = 1024

export const WEBRTC_DIRECT_CERTIFICATE_SUFFIX = '.webrtc-direct.pem'

/**
 * How long the WebRTC-Direct certificate is valid: ten years. Browsers check only
 * its fingerprint (the `/certhash/` in the multiaddr), never its dates or issuer
 * (libp2p WebRTC-Direct spec, "Browser to public server"), and a new certificate
 * changes the certhash, so every relay address an app ships with would go stale.
 * libp2p's own default is 14 days, renewed automatically, for nodes whose
 * addresses are found at run time.
 */
export const WEBRTC_DIRECT_CERTIFICATE_DAYS = 10 * 365

/**
 * Largest message on a WebRTC-Direct data channel: 16 KiB, what go-libp2p and
 * rust-libp2p accept and @libp2p/webrtc's own default (browsers take 256 KiB).
 */
export const WEBRTC_MAX_MESSAGE_BYTES = 16 * 1024

/**
 * Bytes queued on one data channel before the relay stops writing to it and pauses
 * the circuit feeding it: the same 256 KiB as a Yamux stream's window, so a circuit
 * holds as much toward a WebRTC-Direct peer as toward a WebSocket one.
 * @libp2p/webrtc's default is 2 MiB per channel.
 */
export const WEBRTC_MAX_BUFFERED_BYTES = 256 * 1024

/**
 * Data channels a WebRTC-Direct peer may open before its connection is upgraded
 * (buffered by @libp2p/webrtc until the muxer adopts them). A peer opens identify,
 * ping, a reservation and a token exchange at once; @libp2p/webrtc allows 10, and
 * each may buffer at most one 16 KiB message.
 */
export const WEBRTC_MAX_EARLY_STREAMS = 10

// ---- Tokens: who may reserve and relay (guard/tokens.ts, serve/auth-server.ts) ----

/**
 * Clock skew allowed when checking a token's `exp` and `nbf`: the issuing backend
 * and the relay keep time with NTP, usually within a second; 30 s covers a host
 * whose clock has drifted a little without letting an expired token live on.
 */
export const AUTH_CLOCK_TOLERANCE_SECONDS = 30

/**
 * Largest token message: a JWT with a peer ID, a few claims and an Ed25519
 * signature is about 300 bytes; 4 KiB leaves room for an issuer's own claims.
 */
export const MAX_AUTH_MESSAGE_BYTES = 4 * 1024

/**
 * Most room topics a token's `rooms` claim may list; a longer list refuses the token
 * (`token-claims`). Each topic is 64 hex characters, about 90 bytes of the JWT once
 * quoted and base64url-encoded, so 32 of them (2.9 KiB) and the ~300 bytes of the
 * rest still fit in MAX_AUTH_MESSAGE_BYTES (and the SDK's MAX_RELAY_TOKEN_BYTES). A
 * peer is in at most DEFAULT_MAX_ROOMS_PER_PEER rooms at once, so 32 covers a user's
 * rooms for a token's lifetime; an app with more issues a token per session's rooms.
 */
export const MAX_TOKEN_ROOMS = 32

/** Reading the token and answering it: one round trip; the HOP exchange has 30 s. */
export const AUTH_TIMEOUT_MS = 30_000

/**
 * Token exchanges one connection may have open at once: a peer presents one token,
 * and a new one before the old expires.
 */
export const AUTH_STREAMS_PER_CONNECTION = 2

// ---- Watching: metrics and health (watch/) ----

/**
 * Upper bounds, in seconds, of the circuit duration histogram's buckets. A circuit
 * is a Lifeline link's data path while no direct path exists: it lasts from a few
 * seconds (a link that turns direct at once) to a whole session of hours.
 * Prometheus's default buckets (5 ms to 10 s, go-libp2p's choice) would put every
 * such circuit in the last one.
 */
export const CIRCUIT_DURATION_BUCKETS_SECONDS = [1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600]

/**
 * Deadline for one request to the metrics server, headers included: a scrape is one
 * small GET on a private network; a client that takes longer holds a socket for
 * nothing. Prometheus's own default scrape timeout is 10 s.
 */
export const METRICS_REQUEST_TIMEOUT_MS = 10_000

/**
 * Connections the metrics server holds at once: a few Prometheus servers and a
 * health checker. It listens on an address the operator chose apart from the public
 * one, and this bounds what a caller that reaches it anyway can hold.
 */
export const METRICS_MAX_CONNECTIONS = 16

/**
 * How long a stopping relay lets requests already in flight on the metrics server
 * finish: a scrape takes milliseconds, and the whole shutdown has SHUTDOWN_TIMEOUT_MS.
 */
export const METRICS_CLOSE_GRACE_MS = 1_000

/** A scrape or health request is a GET of a few hundred bytes of headers. */
export const METRICS_MAX_HEADER_BYTES = 8 * 1024

/** The namespace for `DEBUG=lifeline:relay*`. */
export const LOG_NAMESPACE = 'lifeline:relay'

/**
 * How long a signal-triggered shutdown may take before the process exits anyway;
 * libp2p closes connections with a 1 s timeout each, in parallel.
 */
export const SHUTDOWN_TIMEOUT_MS = 5_000

// ---- Rooms: /lifeline/rooms/1.0.0 (rooms/) ----

/**
 * Largest `metadata` of a member record: a display name and an avatar hash, not a
 * file. Every member of a room receives every other member's metadata in each
 * SNAPSHOT, so this times the members of a room is what one SNAPSHOT may weigh.
 */
export const MAX_ROOM_METADATA_BYTES = 4 * 1024

/**
 * Largest RoomRequest: a SignedMember is the metadata above plus a 32-byte topic, a
 * peer ID (38 bytes for Ed25519, 41 for secp256k1), a seq and a signature (64-72
 * bytes), a few dozen bytes in all; 8 KiB leaves room without letting a request
 * carry a file.
 */
export const MAX_ROOM_REQUEST_BYTES = 8 * 1024

/**
 * From a rooms stream's opening to its first request (JOIN or LOOKUP): one message
 * written right after the stream opens; the HOP exchange has 30 s for more.
 */
export const ROOM_REQUEST_TIMEOUT_MS = 30_000

/**
 * Rooms (JOIN streams) one peer may be in at once on this relay. An app is usually
 * in one room, sometimes a lobby and a few channels; each room costs the relay a
 * stream and a subscriber buffer (see DEFAULT_ROOM_SUBSCRIBER_BUFFER_BYTES).
 */
export const DEFAULT_MAX_ROOMS_PER_PEER = 8

/**
 * Members one room may have on this relay; a JOIN past it is answered LIMIT. It
 * also caps the members of one SNAPSHOT (this relay's and the fleet's), so a
 * SNAPSHOT weighs at most 64 x ~4.4 KiB, about 280 KiB. A browser keeps a full
 * mesh of WebRTC connections to a few dozen peers at most, so a room much larger
 * than this is not one a peer can join in full anyway.
 */
export const DEFAULT_MAX_ROOM_MEMBERS = 64

/**
 * Events queued for one subscriber beyond what its stream accepts (the Yamux window
 * it grants, 256 KiB by default): a subscriber that does not read is cut off (its
 * stream reset, its membership ended) when this is exceeded, so it never grows the
 * relay's memory. 1 MiB holds a full SNAPSHOT (DEFAULT_MAX_ROOM_MEMBERS) and a few
 * hundred events behind it; a peer in every room it may join holds at most 8 MiB.
 */
export const DEFAULT_ROOM_SUBSCRIBER_BUFFER_BYTES = 1024 * 1024

/**
 * Rooms streams one connection may open beyond its joins: a LOOKUP in flight and a
 * JOIN that is answered LIMIT instead of being reset by the stream cap.
 */
export const ROOM_EXTRA_STREAMS_PER_CONNECTION = 2

/**
 * How long a presence in the shared directory (Redis) outlives its relay: entries
 * are refreshed by their holding relay PRESENCE_REFRESHES_PER_TTL times a TTL, so a
 * relay killed without a goodbye disappears from the fleet's view within this. 20 s
 * is about as long as a browser takes to notice a dead connection (WebSocket
 * pings, ICE consent checks every 5 s).
 */
export const DEFAULT_PRESENCE_TTL_SECONDS = 20

/**
 * Refreshes (and re-reads of rooms with local subscribers) per presence TTL: four
 * means an entry survives three missed refreshes (a busy event loop, a Redis
 * failover) and a killed relay's members are gone from every view within a TTL and
 * a quarter at worst.
 */
export const PRESENCE_REFRESHES_PER_TTL = 4

/** Keys and channels of the shared directory start with this, so one Redis can serve other data too. */
export const DEFAULT_REDIS_PREFIX = 'lifeline:'

/**
 * A Redis command that has not answered in this long fails (the directory counts as
 * down for it): Redis answers in well under a millisecond on a LAN, so 2 s means a
 * stalled server, not a slow one, and a LOOKUP is answered DIRECTORY_UNAVAILABLE
 * instead of hanging.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 2_000

/**
 * Reconnect delays to Redis: 100 ms after the first failure, growing by 100 ms a
 * try up to 2 s, so a restarted Redis is found again within 2 s and a dead one
 * costs a connection attempt every 2 s.
 */
export const REDIS_RECONNECT_STEP_MS = 100
export const REDIS_RECONNECT_MAX_MS = 2_000

/**
 * How long the relay waits at start for Redis before it serves without it (rooms
 * then work per relay until Redis is reachable; see the README's fault behaviour).
 */
export const REDIS_START_TIMEOUT_MS = 5_000
