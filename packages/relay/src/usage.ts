/** The CLI's help text; every default comes from constants.ts. */
import {
  DEFAULT_CIRCUIT_BUFFER_BUDGET_BYTES, DEFAULT_CONNECTION_RATE, DEFAULT_CONNECTION_RATE_PER_SOURCE,
  DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_HOST, DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_KEY_FILE,
  DEFAULT_MAX_CIRCUITS_PER_PEER, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS_PER_SOURCE,
  DEFAULT_MAX_PENDING_CONNECTIONS, DEFAULT_MAX_PENDING_PER_SOURCE, DEFAULT_MAX_RESERVATIONS,
  DEFAULT_MAX_RESERVATIONS_PER_SOURCE, DEFAULT_PORT, DEFAULT_RESERVATION_TTL_SECONDS,
  DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS, DEFAULT_UPGRADE_TIMEOUT_MS, WEBRTC_DIRECT_CERTIFICATE_SUFFIX,
  DEFAULT_MAX_ROOM_MEMBERS, DEFAULT_MAX_ROOMS_PER_PEER, DEFAULT_PRESENCE_TTL_SECONDS, DEFAULT_REDIS_PREFIX,
  DEFAULT_ROOM_SUBSCRIBER_BUFFER_BYTES
} from './constants.js'

export const USAGE = `Usage: lifeline-relay [options]

Runs a Circuit Relay v2 server over WebSockets (and, with --webrtc-direct, WebRTC-Direct)
for Lifeline peers. Prints each address peers can use, one multiaddr per line, on stdout.

Options:
  --config FILE             JSON file of options, keys named as in the library's
                            RelayConfig (keyFile, maxCircuitsPerPeer, ...); flags and
                            environment variables win over it (env LIFELINE_RELAY_CONFIG)
  --host H                  address to listen on (env LIFELINE_RELAY_HOST, default ${DEFAULT_HOST})
  --port N                  TCP port, 0 picks a free one (env LIFELINE_RELAY_PORT, default ${DEFAULT_PORT})
  --key FILE                private key file, created with mode 0600 if missing
                            (env LIFELINE_RELAY_KEY, default ${DEFAULT_KEY_FILE})
  --webrtc-direct PORT      also listen for WebRTC-Direct on this UDP port of --host,
                            0 picks a free one (env LIFELINE_RELAY_WEBRTC_DIRECT_PORT,
                            default: off); its certificate is kept in the key file's
                            path + ${WEBRTC_DIRECT_CERTIFICATE_SUFFIX}, created if missing
  --announce MULTIADDR      address to announce instead of the listen address; repeatable;
                            a /webrtc-direct address without /certhash gets the relay's
  --max-reservations N      peers that may reserve a slot at once (default ${DEFAULT_MAX_RESERVATIONS})
  --reservation-ttl S       seconds a reservation lasts unless refreshed (default ${DEFAULT_RESERVATION_TTL_SECONDS})
  --max-circuits N          circuits one peer may have open at once, per direction (default ${DEFAULT_MAX_CIRCUITS_PER_PEER})
  --max-circuit-bytes B     bytes one circuit may carry (default: unlimited)
  --max-circuit-seconds S   seconds one circuit may stay open (default: unlimited)
  --auth-public-key FILE    only peers presenting a token signed by this Ed25519 key
                            (PEM) may reserve and relay; repeatable, for rotation
  --allow-peers FILE        only these peers (one peer ID per line) may connect, reserve
                            and relay (env LIFELINE_RELAY_ALLOW_PEERS, default: anyone)

Limits per source ("ip": an IPv4 address or an IPv6 /64) and in total; see the
README's security model for the reason behind each default:
  --max-reservations-per-ip N   reservations one source may hold (default ${DEFAULT_MAX_RESERVATIONS_PER_SOURCE})
  --max-connections N           connections open at once (default ${DEFAULT_MAX_CONNECTIONS})
  --max-connections-per-ip N    connections one source may hold (default ${DEFAULT_MAX_CONNECTIONS_PER_SOURCE})
  --connection-rate N           new connections a second (default ${DEFAULT_CONNECTION_RATE})
  --connection-rate-per-ip N    new connections a second from one source (default ${DEFAULT_CONNECTION_RATE_PER_SOURCE})
  --max-pending N               connections in their handshake (default ${DEFAULT_MAX_PENDING_CONNECTIONS})
  --max-pending-per-ip N        connections in their handshake from one source (default ${DEFAULT_MAX_PENDING_PER_SOURCE})
  --upgrade-timeout-ms MS       TCP accept to WebSocket upgrade (default ${DEFAULT_UPGRADE_TIMEOUT_MS})
  --handshake-timeout-ms MS     WebSocket upgrade to libp2p connection (default ${DEFAULT_HANDSHAKE_TIMEOUT_MS})
  --idle-timeout-ms MS          close a connection with no reservation or circuit (default ${DEFAULT_IDLE_TIMEOUT_MS})
  --circuit-buffer-budget B     bytes all circuits may buffer; sets the circuit cap
                                (default ${DEFAULT_CIRCUIT_BUFFER_BUDGET_BYTES})

TLS (wss://), served by the relay itself; the files are reloaded when they change
and on SIGHUP, without dropping connections:
  --tls-cert FILE               PEM certificate chain, e.g. certbot's fullchain.pem
                                (env LIFELINE_RELAY_TLS_CERT)
  --tls-key FILE                PEM private key, e.g. certbot's privkey.pem
                                (env LIFELINE_RELAY_TLS_KEY)
  --tls-handshake-timeout-ms MS TCP accept to a finished TLS handshake
                                (default ${DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS})

Operations:
  --metrics HOST:PORT           serve Prometheus metrics at /metrics and a readiness
                                check at /healthz on their own HTTP server, e.g.
                                127.0.0.1:9464 (env LIFELINE_RELAY_METRICS, default: off)
  -h, --help                print this help

Rooms (/lifeline/rooms/1.0.0: peers find each other by room through their relays):
  --redis URL                   redis://[user:password@]HOST:PORT[/DB] shared by a fleet
                                of relays, so members and reservations held by one are
                                seen by all (env LIFELINE_RELAY_REDIS, which keeps a
                                password off the command line; default: in memory, this
                                relay alone)
  --redis-prefix P              prefix of every Redis key and channel (default ${DEFAULT_REDIS_PREFIX})
  --presence-ttl-seconds S      how long a member stays listed after its relay died
                                (default ${DEFAULT_PRESENCE_TTL_SECONDS})
  --max-rooms-per-peer N        rooms one peer may be in on this relay (default ${DEFAULT_MAX_ROOMS_PER_PEER})
  --max-room-members N          members of one room on this relay; also the most one
                                snapshot lists (default ${DEFAULT_MAX_ROOM_MEMBERS})
  --room-buffer-bytes B         event bytes queued for a member that does not read
                                before it is cut off (default ${DEFAULT_ROOM_SUBSCRIBER_BUFFER_BYTES})

Logging: DEBUG=lifeline:relay* (add libp2p:* for libp2p's own logs), on stderr, one
line per record:
  --log-format F                text (default) or json (time, level, namespace,
                                message, fields) (env LIFELINE_RELAY_LOG_FORMAT)
`
