/**
 * Every tunable of the SDK, with the reason for its value. Documented `@default`s in
 * the public types refer to these names.
 */

/**
 * Protocol of the link stream that carries messages, acks and pings on each path.
 * 2.0.0: HELLO announces the receive window, and acks follow what the app has taken.
 */
export const LINK_PROTOCOL = '/lifeline/link/2.0.0'

/**
 * Largest message `Link.send()` accepts. Messages are kept until acknowledged so that
 * a path change loses nothing; 8 MiB keeps one message well inside the send buffer.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024

/**
 * Unacknowledged bytes a link holds before `send()` waits (backpressure). Twice the
 * largest message, so one large message never blocks on its own.
 */
export const DEFAULT_SEND_BUFFER_BYTES = 16 * 1024 * 1024

/**
 * Unacknowledged messages a link holds before `send()` waits, whatever their size. A
 * receiver refuses a message further ahead than this: no honest sender can be.
 */
export const SEND_BUFFER_MESSAGES = 8192

/**
 * What one message costs in memory besides its payload while it waits in a buffer (its
 * Uint8Array object, the array or map slot, the delivery record: about 200 bytes in V8).
 * Windows count it per message, so a flood of empty messages is bounded as well.
 */
export const MESSAGE_OVERHEAD_BYTES = 256

/**
 * Bytes a link holds for the application before the remote must wait: messages
 * delivered but not yet taken (read from `messages()`), and messages that arrived
 * early. The remote learns it from the link handshake; a remote that sends past it is
 * cut off with PROTOCOL_ERROR. Large enough that a peer with the default send buffer
 * never waits on it (16 MiB of payload plus 8192 messages' overhead).
 */
export const DEFAULT_RECEIVE_WINDOW_BYTES = DEFAULT_SEND_BUFFER_BYTES + SEND_BUFFER_MESSAGES * MESSAGE_OVERHEAD_BYTES

/**
 * A frame is a message plus a small header; anything larger is garbage or hostile
 * and closes the path with PROTOCOL_ERROR instead of buffering without bound.
 */
export const FRAME_OVERHEAD_BYTES = 64

/**
 * A receiver acknowledges what the application took after this many messages, once a
 * quarter of its window was taken (so a sender of large messages is not starved while
 * the delayed ack waits), or after ACK_DELAY_MS.
 */
export const ACK_EVERY_MESSAGES = 32
export const ACK_EVERY_WINDOW_FRACTION = 1 / 4

/** Delayed-ack timer, as TCP does (RFC 1122 allows up to 500 ms; we want fast buffer release). */
export const ACK_DELAY_MS = 20

/**
 * Control frames one path may have waiting while its stream cannot take more. Acks,
 * pings and pongs replace a waiting frame of their kind, so only the rare ones (HELLO,
 * CLOSE, DIRECT_UP) add up; more than this many is a remote misbehaving, and the path
 * is closed with PROTOCOL_ERROR.
 */
export const MAX_QUEUED_CONTROL_FRAMES = 256

/**
 * A path whose stream has taken nothing for this long has a remote that does not
 * read (the SDK always reads its paths, so an app that is slow to take messages does
 * not cause it): the path is closed with TIMEOUT and the link moves on. Such a remote
 * may still send, so received bytes alone would keep the path alive. Ten times the
 * longest send stall measured on a DataChannel between two Chromiums (3 s).
 */
export const PATH_WRITE_STALL_MS = 30_000

/**
 * Hedging (link/hedge.ts). A path that stops answering is declared dead only after its
 * ping timeout (PING_TIMEOUT_MIN_MS or more, so a GC pause is not a death), which alone
 * would stall a link's messages that long. So while messages wait for their ack, a link
 * watches the path it sends on: once it has been quiet for HEDGE_PROBE_AFTER_MS (an
 * honest receiver acks within ACK_DELAY_MS of taking a message) it is pinged at once,
 * and when that ping stays unanswered for max(HEDGE_SILENCE_MIN_MS,
 * HEDGE_SILENCE_RTT_FACTOR x RTT) the link probes its best other path and, once the
 * remote answers there, copies what is unacknowledged onto it. The receiver drops the
 * copies it has and acks on the path they came in on. A wrong suspicion costs at most
 * HEDGE_MAX_BYTES of copies, never a path change, so the floor can sit well under the
 * ping timeout: above a LAN's RTT and a minor GC pause.
 */
export const HEDGE_PROBE_AFTER_MS = 3 * ACK_DELAY_MS
export const HEDGE_SILENCE_MIN_MS = 150
/** Four RTTs, as a TCP retransmission timeout allows for an ack's variance (RFC 6298). */
export const HEDGE_SILENCE_RTT_FACTOR = 4
/**
 * A suspect path on which nothing arrives for this long after the remote answered on
 * the hedge path is dead, and the link leaves it before its ping timeout. The answer
 * proves the remote's event loop ran after the probe: a stalled remote or a GC pause
 * delays both paths alike, and a direct path answers first (a lower RTT than the
 * relay's). So this need cover only the gap between two answers sent together: a few
 * RTTs of jitter, a long one on a busy machine.
 */
export const HEDGE_CONFIRM_MS = 250
/**
 * After the remote answered on the other path, copies wait this long for an answer on
 * the suspect one. A remote that resumes after a stall (the NAT matrix under the CPU
 * hog: a page blocked for hundreds of ms during a bulk transfer) answers the other
 * path's probe at once and acks the suspect's data a timer or two later (ACK_DELAY_MS),
 * which is no reason to copy; a dead path stays silent. Costs the failover this much.
 */
export const HEDGE_COPY_AFTER_ANSWER_MS = 100
/** How often a link with messages awaiting their ack looks at its path. */
export const HEDGE_CHECK_INTERVAL_MS = 25
/**
 * Bytes of copies one suspicion may send on the other path: what a steady message
 * stream sends in a second or more, and what a relay's circuit buffers in one direction.
 * A link with more than this unacknowledged is in a bulk transfer and is not hedged:
 * its own data may be queued ahead of the probe (see link/hedge.ts).
 */
export const HEDGE_MAX_BYTES = 256 * 1024

/**
 * Message bytes a link may have unacknowledged on a relayed path whose relay it reaches
 * over WebRTC-Direct. A data channel has no receive flow control, so a relay cannot slow
 * down a sender on one: it holds what the far side cannot take yet, up to its circuit
 * window (256 KiB in lifeline-relay, CIRCUIT_WINDOW_BYTES), and resets the circuit past
 * that. Three quarters of it leaves room for framing; the path holds the rest back until
 * acks come. In `pnpm bench` a relayed 20 MB transfer from such a sender never finished
 * within the page's deadline before (the circuit reset, the link resent, the circuit
 * reset again); the cost is throughput: window / (ack delay + RTT).
 */
export const WEBRTC_DIRECT_CIRCUIT_WINDOW_BYTES = 192 * 1024

/**
 * Frames waiting on a path go to its stream as one write of up to this many bytes.
 * Yamux sends each write it has window for as a frame of its own, the receiver answers
 * every frame with a window update, and Noise cuts every frame into 65,519-byte
 * messages plus a short tail; each of those Noise messages is two WebSocket messages
 * from a browser (length, then ciphertext), on both legs of a relayed path. Written
 * frame by frame after a drain, a relayed 20 MB transfer in `pnpm bench` went out as
 * about 310 Yamux frames (one per 64 KiB message) where plain js-libp2p sent 17, and
 * the receiver sent 1.8-2.9 times as many WebSocket messages. Batched, a relayed transfer
 * ran at 13.2-14.4 MB/s where it had 11.8-13.3 (js-libp2p: 14.8-18.7 and 12.4-16.7 in
 * the same runs). 1 MiB batches carried no more but arrive in bursts: a Yamux frame is
 * handed on only once all of it is in, and the 50 MB file's longest pause at the
 * receiver grew from 28-43 ms to 178-211 ms; with 256 KiB it is 44-48 ms. The batch
 * only references the frames (no copy).
 */
export const PATH_WRITE_BATCH_BYTES = 256 * 1024

/**
 * Probes (pings sent early, see HEDGE_PROBE_AFTER_MS) go out at most this often on one
 * path: with the regular pings and the pongs to the remote's, they stay well under the
 * remote's CONTROL_FRAMES_PER_SECOND while an application that reads slowly leaves
 * messages unacknowledged for long.
 */
export const PROBE_MIN_INTERVAL_MS = HEDGE_SILENCE_MIN_MS

/**
 * A path that carries data is pinged this often, so a dead one is found within about a
 * second (sooner by hedging, see HEDGE_CONFIRM_MS); the timer checks every path for
 * silence this often too.
 */
export const PING_INTERVAL_MS = 500

/**
 * A path that carried no data (messages or acks, either way) for PATH_BUSY_MS is idle:
 * a spare relayed route, or the direct path of a quiet link. It is pinged only every
 * IDLE_PING_INTERVAL_MS. Keep-alives through a relay cost relay bandwidth for every
 * link it serves (issue 11: 12.6 kB/s per idle link measured with all paths at
 * PING_INTERVAL_MS, about 1 GB a day), and a quiet path needs no fast verdict: the
 * first message sent on it is hedged within HEDGE_PROBE_AFTER_MS + HEDGE_SILENCE_MIN_MS
 * if it turns out dead, and a relay that dies closes its circuits or is found by the
 * relay pool's own pings. Ten seconds keeps NAT and proxy mappings open (the shortest
 * common UDP mapping timeout is 30 s).
 */
export const PATH_BUSY_MS = 5000
export const IDLE_PING_INTERVAL_MS = 10_000

/**
 * Control frames a remote may send on one path, other than acks: pings, pongs, HELLO,
 * CLOSE, DIRECT_UP. An honest remote sends about two a second (one ping per
 * PING_INTERVAL_MS and the pongs to ours); ten times that, with a burst for timers
 * bunched after a pause, leaves room. A remote that sends more is flooding (each ping
 * costs a pong) and the path is closed with PROTOCOL_ERROR.
 */
export const CONTROL_FRAMES_PER_SECOND = 20
export const CONTROL_FRAMES_BURST = 40

/**
 * Pings a path remembers while unanswered. A remote that reads but never answers is
 * judged by the oldest ones; more would only grow memory while it keeps sending data.
 */
export const MAX_OUTSTANDING_PINGS = 16

/**
 * A ping times out after clamp(PING_TIMEOUT_RTT_FACTOR x smoothed RTT) milliseconds
 * (iroh's ping tracker uses 3 x RTT with a floor). The floor absorbs the queueing of a
 * ping behind bulk data; the ceiling keeps detection of a dead path under 3 s.
 */
export const PING_TIMEOUT_RTT_FACTOR = 3
export const PING_TIMEOUT_MIN_MS = 1000
export const PING_TIMEOUT_MAX_MS = 2000

/** Weight of a new RTT sample in the smoothed RTT (RFC 6298 uses 1/8). */
export const RTT_SMOOTHING = 1 / 8

/**
 * A WebRTC dial normally takes 0.2-0.4 s on a LAN and a few seconds across the
 * internet. One attempt is abandoned after this long and tried again.
 */
export const DIRECT_DIAL_ATTEMPT_TIMEOUT_MS = 8000

/** Direct dial attempts per upgrade before the link settles on the relay. */
export const DIRECT_DIAL_ATTEMPTS = 3

/**
 * When the remote side reports the direct connection open but our dial has not
 * finished this long after, the dial is stuck (@libp2p/webrtc 6.0.33 waits for an
 * `open` event of its `init` channel that can never come when the remote closes the
 * channel first) and is abandoned and retried at once.
 */
export const DIRECT_DIAL_STUCK_GRACE_MS = 750

/** Default deadline for `connect()` and `online()` when the caller passes no signal. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 15_000
export const DEFAULT_ONLINE_TIMEOUT_MS = 15_000

/** How long the link handshake (HELLO both ways) may take on a fresh path. */
export const HANDSHAKE_TIMEOUT_MS = 5000

/**
 * A link that has had no path at all for this long is closed with PEER_UNREACHABLE.
 * Both sides try to restore it meanwhile (route backoff at most ROUTE_BACKOFF_MAX_MS,
 * a relay's at most RELAY_BACKOFF_MAX_MS), so a remote that can come back has been
 * tried several times; one that cannot (its tab closed) must not hold a link, and a
 * place under maxInboundLinks, for ever.
 */
export const NO_PATH_TIMEOUT_MS = 60_000

/**
 * Links other peers may have opened to this one at once. Each may hold up to its
 * receive window; a web app talks to tens of peers, and a peer that accepts more
 * should say so.
 */
export const DEFAULT_MAX_INBOUND_LINKS = 256

/**
 * Incoming links that have not finished their handshake yet. Each lasts at most
 * HANDSHAKE_TIMEOUT_MS; a flood of link attempts is refused beyond this instead of
 * filling the inbound cap with links that never say HELLO.
 */
export const MAX_PENDING_INBOUND_LINKS = 32

/**
 * New inbound connections libp2p accepts per second from one host. Every relayed
 * connection comes from its relay's address, so this is a limit per relay: libp2p's
 * default of 5 refuses peers that open links together (a room filling up). The relay
 * limits each source's connection rate itself (16/s by default), and the caps on
 * inbound links bound what those connections can cost.
 */
export const INBOUND_CONNECTIONS_PER_SECOND = 50

/**
 * Inbound connections in their Noise and Yamux upgrade at once (libp2p's default is
 * 10). Each lasts at most libp2p's upgrade timeout; as many as the pending links.
 */
export const MAX_PENDING_INBOUND_CONNECTIONS = MAX_PENDING_INBOUND_LINKS

/**
 * Paths one link may have at once: the relayed route in use, SPARE_ROUTES spares, a
 * direct connection, and routes being replaced while the old ones close. A remote
 * that opens more link streams than this is refused: each path has its buffers.
 */
export const MAX_PATHS_PER_LINK = 8

/**
 * Reservations held at once. Two means a relay can die without the peer becoming
 * unreachable while a third is found.
 */
export const DEFAULT_RELAY_RESERVATIONS = 2

/**
 * Each held relay is pinged this often while it answers, with a timeout of
 * clamp(3 x RTT) between the bounds below. A relay process that exits closes its TCP
 * connections and is seen at once; a silent one is judged by RelayLiveness: slow
 * after one unanswered ping, dead after RELAY_PING_MISSES_TO_DEAD in a row.
 */
export const RELAY_PING_INTERVAL_MS = 750
/**
 * A held relay that forwarded no link data (messages or acks) to this peer for
 * RELAY_BUSY_MS is idle and pinged only every RELAY_IDLE_PING_INTERVAL_MS. A ping opens
 * a stream: about 2.4 kB on the wire with its multistream handshake, stream close and
 * TCP acks (`pnpm bench`: 3.2 kB/s per reserved peer at RELAY_PING_INTERVAL_MS; stock
 * js-libp2p's 10 s connection-monitor ping costs 250-330 B/s). Every 15 s is 160 B/s, under
 * issue 11's 200 B/s per idle reserved peer. An idle relay that falls silent is then
 * found within about 18 s; one that exits or restarts closes its connections and is
 * seen at once, and DEFAULT_RELAY_RESERVATIONS keeps the peer reachable through another
 * meanwhile. A relay carrying a link's data is pinged at RELAY_PING_INTERVAL_MS, so a
 * silent one is found within about 3 s as above.
 */
export const RELAY_BUSY_MS = 5000
export const RELAY_IDLE_PING_INTERVAL_MS = 15_000
/**
 * While a relay is slow it is pinged this often, so the misses that make it dead come
 * quickly: a relay that goes silent is declared dead within about interval + 1 s +
 * 2 x 250 ms + 1 s = 2.75-3.25 s at LAN round-trip times (the target is 3 s), and
 * a slow one that answers again is back to `alive` at its next pong.
 */
export const RELAY_PING_SUSPECT_INTERVAL_MS = 250
/** Each ping opens a stream (one more round trip) and may queue behind relayed data. */
export const RELAY_PING_TIMEOUT_MIN_MS = 1000
export const RELAY_PING_TIMEOUT_MAX_MS = 2000
/**
 * One unanswered ping makes a held relay `slow`, not dead: a pong queued behind a
 * bulk transfer or lost in a burst must not tear down its reservation and circuits,
 * which causes the outage the monitoring is there to prevent. Three in a row, each
 * with its own timeout, is silence.
 */
export const RELAY_PING_MISSES_TO_DEAD = 3
/**
 * Pings one relay may have unanswered at once: while a relay is slow they overlap (one
 * every RELAY_PING_SUSPECT_INTERVAL_MS, each with its own timeout), and each needs a
 * stream of its own. libp2p's ping allows one outbound stream by default, so a second
 * ping while the first waits failed at once and counted as a miss: a busy relay was
 * called dead within a second. No more are sent than can make it dead.
 */
export const RELAY_PINGS_IN_FLIGHT = RELAY_PING_MISSES_TO_DEAD
/**
 * A timer that fires this much later than it was due ran on a blocked event loop (a
 * GC pause, a long task): a pong may be queued right behind it, so a relay's ping
 * timeout is not counted as a miss, and a path's ping tick does not judge silence.
 * Timer jitter in a foreground tab is a few ms; a ping timeout is 1 s or more.
 */
export const LATE_TIMER_MS = 250

/** Dialling a relay and making a reservation each get this long. */
export const RELAY_DIAL_TIMEOUT_MS = 5000

/**
 * A relay with several addresses (one per transport) is dialled Happy Eyeballs style
 * (relay/connect.ts): the next address starts this long after the one before unless
 * that one has failed already. RFC 8305's recommended Connection Attempt Delay: long
 * enough that a working first choice usually wins (a WebSocket handshake to a relay is
 * two round trips), short enough that a page behind a firewall that silently drops
 * one transport reaches the relay over the next one at once.
 */
export const RELAY_ATTEMPT_DELAY_MS = 250

/**
 * The order a relay's transports are tried in, first choice first. WebSockets (over
 * TLS on an https page) first: in `pnpm bench` (2026-11-30, relayed path, medians) WSS
 * carried 12.9 MB/s against WebRTC-Direct's 9.4 and reserved in 375 ms against 437
 * (WebRTC-Direct had the lower RTT, 4.7 ms against 6.6), and WSS on 443 is what passes
 * enterprise firewalls. WebRTC-Direct next: it needs no domain or CA-signed
 * certificate and is the way in where a proxy breaks WebSockets. No WebTransport: no
 * Lifeline relay can serve it (js-libp2p cannot listen for WebTransport), and its
 * transport pulled a second Noise implementation into every page (issue 11).
 */
export const RELAY_TRANSPORT_PREFERENCE = ['wss', 'ws', 'webrtc-direct'] as const

/**
 * A failed relay is retried after a jittered exponential backoff from 1 s up to 30 s;
 * a browser's `online` event retries at once, so the cap only matters while offline.
 */
export const RELAY_BACKOFF_BASE_MS = 1000
export const RELAY_BACKOFF_MAX_MS = 30_000

/**
 * A reservation is refreshed when half of its remaining lifetime has passed: a 2 h
 * reservation is renewed after an hour, well before it expires, and a refresh that
 * fails leaves time for retries. Never sooner than the floor below.
 */
export const RESERVATION_REFRESH_FRACTION = 0.5
export const RESERVATION_REFRESH_MIN_MS = 1000

/**
 * connect() races routes through several relays, starting the next one this long after
 * the previous if that has not succeeded yet (Happy Eyeballs' connection attempt delay,
 * RFC 8305 section 5). The first route carries the link; a later one becomes the spare.
 */
export const ROUTE_STAGGER_MS = 250

/** Relayed routes a link keeps besides the one it uses, so a relay's death costs no reconnect. */
export const SPARE_ROUTES = 1

/**
 * How often a link checks that it has its routes and restores what is missing: the side
 * that opened it its spares and direct path, the other side a link left with no path.
 */
export const ROUTE_CHECK_INTERVAL_MS = 1000

/** A route through a relay that failed is retried after a backoff from 1 s to 10 s. */
export const ROUTE_BACKOFF_BASE_MS = 1000
export const ROUTE_BACKOFF_MAX_MS = 10_000

/**
 * After the direct path fails or dies, the upgrade is tried again after a backoff from
 * 2 s to 60 s: the network may have changed, and a failed attempt costs little.
 */
export const DIRECT_RETRY_BASE_MS = 2000
export const DIRECT_RETRY_MAX_MS = 60_000

// ---------------------------------------------------------------------------
// Routes (internal/routes/): keeping and restoring a link's paths
// ---------------------------------------------------------------------------

/**
 * A route dialled to keep a spare or restore a link (not one of `connect()`'s, which run
 * under its deadline) gets this long for all of it: the relay connection, HOP CONNECT
 * and the remote's STOP answer, the Noise and Yamux handshakes over the circuit, and the
 * link stream. The same budget as a relay dial (RELAY_DIAL_TIMEOUT_MS): on a working
 * relay each step is a round trip or two, and a route that takes longer is better
 * tried again after its backoff, through the next relay meanwhile.
 */
export const ROUTE_DIAL_TIMEOUT_MS = 5000

// ---------------------------------------------------------------------------
// Relay tokens (internal/relay/auth.ts): PeerInit.relayToken
// ---------------------------------------------------------------------------

/** Protocol on which a peer presents its relay token (protocols/auth.proto). */
export const RELAY_AUTH_PROTOCOL = '/lifeline/auth/1.0.0'

/**
 * `relayToken()` and the token exchange together get this long. The callback is
 * usually a request to the application's backend (a round trip or two over HTTPS),
 * the exchange one round trip to the relay; twice the relay dial budget
 * (RELAY_DIAL_TIMEOUT_MS) leaves room for a slow backend. The relay itself waits
 * 30 s for the token, so this side gives up first.
 */
export const RELAY_AUTH_TIMEOUT_MS = 10_000

/**
 * Longest token sent, in UTF-8 bytes. The relay reads an AuthRequest of at most
 * 4 KiB (its MAX_AUTH_MESSAGE_BYTES) and hangs up on a longer one; the field's tag
 * and length prefixes take a few bytes of that, so a token is refused here, with a
 * clear error, before the relay would cut it off. A JWT with a peer ID and an
 * Ed25519 signature is about 300 bytes.
 */
export const MAX_RELAY_TOKEN_BYTES = 4 * 1024 - 16

/**
 * Largest AuthResponse read: a status, a refusal name and an expiry are a few dozen
 * bytes; anything near this is not a relay talking.
 */
export const MAX_RELAY_AUTH_RESPONSE_BYTES = 1024

/** A refusal reason from the relay is shown in status and errors up to this length. */
export const MAX_RELAY_AUTH_REASON_CHARS = 64

// ---------------------------------------------------------------------------
// Rooms (internal/rooms/): peer.join(), /lifeline/rooms/1.0.0 (protocols/rooms.proto)
// ---------------------------------------------------------------------------

/** Protocol of the relays' rooms service. */
export const ROOMS_PROTOCOL = '/lifeline/rooms/1.0.0'

/**
 * The namespace rooms are named in when `PeerInit.roomNamespace` is not set. Apps
 * that share a fleet of relays set their own, so that their "chat" is not another
 * app's.
 */
export const DEFAULT_ROOM_NAMESPACE = 'lifeline'

/**
 * Longest room name (and namespace), in UTF-8 bytes. Only its hash goes on the wire;
 * the bound keeps a name an application mistake (a whole document) from being hashed
 * and reported, and leaves room for any human-readable name.
 */
export const MAX_ROOM_NAME_BYTES = 1024

/**
 * Largest metadata of a member, in bytes: the relay's MAX_ROOM_METADATA_BYTES, which
 * refuses a larger JOIN with BAD_REQUEST. Refused here first, with a clear error.
 */
export const MAX_ROOM_METADATA_BYTES = 4 * 1024

/**
 * Largest RoomEvent read from a relay. A SNAPSHOT lists at most the relay's
 * `--max-room-members` (64 by default) members of at most 4 KiB metadata plus a
 * signature and a few addresses each: about 300 KiB. 1 MiB is the relay's own per
 * member buffer (DEFAULT_ROOM_SUBSCRIBER_BUFFER_BYTES); a larger message is garbage
 * and closes the stream.
 */
export const MAX_ROOM_EVENT_BYTES = 1024 * 1024

/**
 * Members one room keeps, across every relay's view. Four times the relay's default
 * members per room (64): a fleet of a few relays. A browser keeps links to a few
 * dozen peers at most; a room far larger is better served by another design. Members
 * past it are not kept (and counted, `RoomStatus.droppedMembers`).
 */
export const MAX_ROOM_MEMBERS = 256

/**
 * Relays kept per member (one entry each in a fleet's view). A peer holds 2
 * reservations by default (DEFAULT_RELAY_RESERVATIONS); 8 covers an app that holds
 * more. Addresses kept per relay, likewise: one per transport, and a few announced.
 */
export const MAX_RELAYS_PER_MEMBER = 8
export const MAX_ADDRS_PER_RELAY = 8

/**
 * Addresses one Member of a RoomEvent may list before the event is garbage (the
 * stream is closed). Four times those kept: a relay announcing several names.
 */
export const MAX_RELAY_ADDRS_READ = 4 * MAX_ADDRS_PER_RELAY

/**
 * Longest relay address kept from a member record, in characters. A WebRTC-Direct
 * address with its certhash and peer ID is under 200.
 */
export const MAX_RELAY_ADDR_CHARS = 512

/** Without a caller's signal, `join()` waits this long for a relay's SNAPSHOT: as connect(). */
export const DEFAULT_JOIN_TIMEOUT_MS = 15_000

/**
 * A relay whose JOIN stream ended (refused, cut off, garbage) is joined again after
 * a jittered backoff, doubling from 1 s to 30 s: the relay pool's own backoff
 * (RELAY_BACKOFF_BASE_MS, RELAY_BACKOFF_MAX_MS).
 */
export const ROOM_REJOIN_BASE_MS = 1000
export const ROOM_REJOIN_MAX_MS = 30_000

/**
 * A LOOKUP (one request, one answer) gets as long as a relay dial
 * (RELAY_DIAL_TIMEOUT_MS), within connect()'s deadline.
 */
export const ROOM_LOOKUP_TIMEOUT_MS = 5000

/**
 * Remote peers whose LOOKUP answers are kept as relay hints, the oldest forgotten
 * first. A link keeps using its remote's hints to restore routes; 256 is the default
 * of inbound links (DEFAULT_MAX_INBOUND_LINKS).
 */
export const MAX_LOOKUP_HINTS = 256

/**
 * With `autoConnect`, a failed dial to a member is tried again after a jittered
 * backoff, doubling from 2 s to 60 s while the member stays: the direct upgrade's
 * retry (DIRECT_RETRY_BASE_MS, DIRECT_RETRY_MAX_MS).
 */
export const AUTO_CONNECT_RETRY_BASE_MS = 2000
export const AUTO_CONNECT_RETRY_MAX_MS = 60_000

/** A relay's refusal message is shown in errors and status up to this length. */
export const MAX_ROOM_REFUSAL_CHARS = 200
