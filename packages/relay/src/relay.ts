/**
 * A libp2p node that does one job: serve Circuit Relay v2 over WebSockets (and
 * WebRTC-Direct when asked), so
 * browser peers can always reach each other through it, and keep serving while
 * someone attacks it. The parts follow a client's bytes in: `listen/` accepts
 * sockets, `guard/` decides what each source may hold and when it must go,
 * `serve/` grants reservations and splices circuits, `watch/` counts it all.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { createLibp2p, type Libp2pOptions } from 'libp2p'
import {
  AUTH_STREAMS_PER_CONNECTION, AUTH_TIMEOUT_MS, MAX_AUTH_MESSAGE_BYTES, CIRCUIT_WINDOW_BYTES, HOP_TIMEOUT_MS, LIBP2P_CAP_HEADROOM, LOG_NAMESPACE, MAX_HOP_MESSAGE_BYTES,
  MAX_HTTP_HEADER_BYTES, MAX_SOCKET_BUFFERED_BYTES, MAX_WS_MESSAGE_BYTES, STREAMS_PER_CONNECTION_HEADROOM,
  PING_STREAMS_PER_CONNECTION, SWEEP_INTERVAL_MS, TCP_KEEPALIVE_IDLE_MS, TLS_RELOAD_DEBOUNCE_MS,
  WEBRTC_DIRECT_CERTIFICATE_SUFFIX, WEBRTC_MAX_BUFFERED_BYTES, WEBRTC_MAX_EARLY_STREAMS, WEBRTC_MAX_MESSAGE_BYTES
} from './constants.js'
import { checkTlsFiles } from './config.js'
import { ConfigError } from './errors.js'
import { loadAllowlist } from './allowlist.js'
import { SourceLimits } from './guard/source-limits.js'
import { IdleReaper } from './guard/idle-reaper.js'
import { loadOrCreateKey } from './key.js'
import { relayWebSockets, wsListenAddress } from './listen/websocket-listener.js'
import { TlsCertificates, type CertificateInfo, type TlsEvents } from './listen/tls-certificates.js'
import { loadOrCreateWebRtcCertificate, type LoadedWebRtcCertificate } from './listen/webrtc-direct-certificate.js'
import { relayWebRTCDirect, webrtcDirectListenAddress, withCerthash } from './listen/webrtc-direct-listener.js'
import { TypedEventEmitter, type TypedEventTarget } from 'main-event'
import { AUTH_PROTOCOL, AuthServer } from './serve/auth-server.js'
import { HOP_PROTOCOL, HopServer } from './serve/hop-server.js'
import { TokenVerifier, loadPublicKeys } from './guard/tokens.js'
import { Reservations } from './serve/reservations.js'
import { Counters, type CounterName } from './watch/counters.js'
import { relayLogger } from './watch/logger.js'
import { RelayMetrics, type Holdings } from './watch/metrics.js'
import { startMetricsServer, type MetricsServer } from './watch/metrics-server.js'
import type { RelayConfig } from './config.js'
import type { Connection } from '@libp2p/interface'
import { ROOM_EXTRA_STREAMS_PER_CONNECTION } from './constants.js'
import { startRooms, type Rooms } from './rooms/rooms.js'
import type { RoomHoldings } from './rooms/hub.js'

export type { CertificateInfo, TlsEvents } from './listen/tls-certificates.js'

/** Happenings the operator should hear of without `DEBUG`. */
export type RelayEvents = TlsEvents

export interface RelayStats {
  connections: number
  /** Connections still in their handshake. */
  pending: number
  reservations: number
  circuits: number
  /** Sources (IPv4 addresses, IPv6 /64s) the relay holds state for. */
  sources: number
  /** Every refusal, closure and error by name (see watch/counters.ts). */
  counters: Partial<Record<CounterName, number>>
  /** Room members and rooms held here, and the state of the rooms directory. */
  rooms: RoomHoldings
}

/** The WebRTC-Direct listener's certificate (never its key). */
export interface WebRtcDirectInfo {
  /** `<keyFile>.webrtc-direct.pem`: back it up with the key file. */
  certificateFile: string
  /** The `/certhash/` of the relay's WebRTC-Direct addresses; stable while the file is kept. */
  certhash: string
  /** True when this start created the certificate file. */
  created: boolean
  validTo: Date
}

export interface Relay {
  /** The relay's peer ID, stable as long as the key file is kept. */
  peerId: string
  /**
   * Full multiaddrs peers dial, `/ip4/H/tcp/N/ws/p2p/<peerId>` (and, with
   * `webrtcDirectPort`, `/ip4/H/udp/N/webrtc-direct/certhash/<hash>/p2p/<peerId>`),
   * with the real ports when 0 was asked for; the announce addresses instead when any
   * were given, a `/webrtc-direct` one with the relay's `/certhash/` added.
   */
  multiaddrs: string[]
  /** The WebRTC-Direct certificate; undefined without `webrtcDirectPort`. */
  webrtcDirect: WebRtcDirectInfo | undefined
  /** True when this start created the key file. */
  keyCreated: boolean
  /** `http://HOST:PORT` of `/metrics` and `/healthz` with `--metrics`, with the real port. */
  metricsUrl: string | undefined
  /** Certificate reloads and failed reloads (see RelayEvents). */
  events: TypedEventTarget<RelayEvents>
  /** The certificate served to new TLS connections; undefined without `tlsCert`. */
  tlsCertificate(): CertificateInfo | undefined
  /**
   * Reads `tlsCert` and `tlsKey` again (what the CLI does on SIGHUP) and serves them
   * to new TLS connections; open connections stay. The relay also does this by
   * itself when either file changes.
   *
   * @throws TlsCertificateError (code `TLS_CERTIFICATE_INVALID`) when the files do
   * not load; the certificate served before stays. ConfigError without TLS.
   */
  reloadTls(): Promise<CertificateInfo>
  /**
   * Reads `allowPeersFile` again (what the CLI does on SIGHUP): newly listed peers may
   * connect from now on, and the connections of peers no longer listed are closed.
   * Returns how many peers are listed.
   *
   * @throws ConfigError (code `CONFIG_INVALID`) when the file cannot be read or lists
   * something that is not a peer ID; the list in force before stays. ConfigError
   * without `allowPeersFile`.
   */
  reloadAllowlist(): Promise<number>
  /** What the relay holds now and what it has refused and closed so far. */
  stats(): RelayStats
  /**
   * Closes every connection and the listener. `/healthz` answers 503 from the
   * moment this is called; the metrics server closes last.
   */
  stop(): Promise<void>
}

/**
 * @throws KeyFileError (code `KEY_FILE_INVALID`) when the key file cannot be read,
 * created or parsed; WebRtcCertificateError (code `WEBRTC_CERTIFICATE_INVALID`)
 * likewise for the WebRTC-Direct certificate file; AuthKeyError (code `AUTH_KEY_INVALID`) for an auth public key file;
 * ConfigError (code `CONFIG_INVALID`) for `tlsCert` without `tlsKey` or the reverse;
 * TlsCertificateError (code `TLS_CERTIFICATE_INVALID`) when they do not load; errors
 * from libp2p (such as the port being taken) pass through
 */
export async function createRelay (config: RelayConfig): Promise<Relay> {
  checkTlsFiles(config)
  const { privateKey, created } = await loadOrCreateKey(config.keyFile)
  const webrtcCertificateFile = `${config.keyFile}${WEBRTC_DIRECT_CERTIFICATE_SUFFIX}`
  const webrtc = config.webrtcDirectPort === undefined ? undefined : await loadOrCreateWebRtcCertificate(webrtcCertificateFile)
  let allowed = config.allowPeersFile === undefined ? undefined : await loadAllowlist(config.allowPeersFile)
  const verifier = config.authPublicKeyFiles.length === 0
    ? undefined
    : new TokenVerifier({ publicKeys: await loadPublicKeys(config.authPublicKeyFiles) })
  const counters = new Counters()
  // the config names every cap the way SourceLimits does
  const limits = new SourceLimits(config)
  const reservations = new Reservations({ ttlSeconds: config.reservationTtlSeconds, limits })

  let state: 'starting' | 'ready' | 'stopping' = 'starting'
  let holdings = (): Holdings => ({ reservations: 0, circuits: 0, pending: 0, sources: 0, connectionsByTransport: {} })
  const ready = (): boolean => state === 'ready'
  let metrics: RelayMetrics | undefined
  let metricsServer: MetricsServer | undefined
  let rooms: Rooms | undefined
  if (config.metrics !== undefined) {
    metrics = new RelayMetrics({ counters, holdings: () => holdings(), ready, rooms: () => rooms?.holdings() })
    // up before libp2p, so /healthz answers 503 for the whole start
    metricsServer = await startMetricsServer(config.metrics, { metrics, ready })
  }
  let certificates: TlsCertificates | undefined
  try {
    if (config.tlsCert !== undefined && config.tlsKey !== undefined) {
      certificates = await TlsCertificates.open({
        certFile: config.tlsCert,
        keyFile: config.tlsKey,
        debounceMs: TLS_RELOAD_DEBOUNCE_MS,
        log: relayLogger({ format: config.logFormat }).forComponent(`${LOG_NAMESPACE}:tls`)
      })
    }
    return await startNode(certificates, webrtc)
  } catch (err: unknown) {
    certificates?.close()
    await metricsServer?.close()
    throw err
  }

  async function startNode (certificates: TlsCertificates | undefined, webrtc: LoadedWebRtcCertificate | undefined): Promise<Relay> {
    const streamsPerConnection = config.maxCircuitsPerPeer + STREAMS_PER_CONNECTION_HEADROOM +
      config.maxRoomsPerPeer + ROOM_EXTRA_STREAMS_PER_CONNECTION
    // a paused stream holds at most a window; one that nobody reads is cut off there
    const maxReadBufferLength = CIRCUIT_WINDOW_BYTES
    // a circuit pauses its source as soon as a send is refused, so twice the window is
    // never reached by a well-behaved circuit
    const maxWriteBufferLength = 2 * CIRCUIT_WINDOW_BYTES + MAX_WS_MESSAGE_BYTES
    const listen = [wsListenAddress(config.host, config.port, certificates !== undefined).toString()]
    const transports: NonNullable<Libp2pOptions['transports']> = [relayWebSockets({
        limits,
        counters,
        upgradeTimeoutMs: config.upgradeTimeoutMs,
        handshakeTimeoutMs: config.handshakeTimeoutMs,
        maxMessageBytes: MAX_WS_MESSAGE_BYTES,
        maxHeaderBytes: MAX_HTTP_HEADER_BYTES,
        maxBufferedBytes: MAX_SOCKET_BUFFERED_BYTES,
        keepAliveIdleMs: TCP_KEEPALIVE_IDLE_MS,
        tls: certificates === undefined ? undefined : { certificates, handshakeTimeoutMs: config.tlsHandshakeTimeoutMs }
    })]
    if (webrtc !== undefined && config.webrtcDirectPort !== undefined) {
      listen.push(webrtcDirectListenAddress(config.host, config.webrtcDirectPort).toString())
      transports.push(relayWebRTCDirect({
        certificate: webrtc.certificate,
        limits,
        counters,
        handshakeTimeoutMs: config.handshakeTimeoutMs,
        // the same stream caps as Yamux below: data channels are this transport's streams
        maxChannelsPerConnection: streamsPerConnection,
        maxMessageBytes: WEBRTC_MAX_MESSAGE_BYTES,
        maxBufferedBytes: WEBRTC_MAX_BUFFERED_BYTES,
        maxReadBufferBytes: maxReadBufferLength,
        maxWriteBufferBytes: maxWriteBufferLength,
        maxEarlyStreams: WEBRTC_MAX_EARLY_STREAMS
      }))
    }
    const node = await createLibp2p({
      privateKey,
      logger: relayLogger({ format: config.logFormat }),
      addresses: {
        listen,
        announce: webrtc === undefined ? config.announce : withCerthash(config.announce, webrtc.certificate.certhash)
      },
      transports,
      connectionEncrypters: [noise()],
      streamMuxers: [yamux({
        maxInboundStreams: streamsPerConnection,
        streamOptions: {
          initialStreamWindowSize: CIRCUIT_WINDOW_BYTES,
          maxStreamWindowSize: CIRCUIT_WINDOW_BYTES,
          maxReadBufferLength,
          maxWriteBufferLength
        }
      })],
      connectionManager: {
        // the listener's per-source admission refuses first, and says why
        maxConnections: Math.ceil(config.maxConnections * LIBP2P_CAP_HEADROOM),
        inboundConnectionThreshold: Math.ceil(config.connectionRate * LIBP2P_CAP_HEADROOM),
        maxIncomingPendingConnections: Math.ceil(config.maxPendingConnections * LIBP2P_CAP_HEADROOM),
        // the listener's handshake deadline closes the socket first; libp2p's is a backstop
        inboundUpgradeTimeout: Math.ceil(config.handshakeTimeoutMs * LIBP2P_CAP_HEADROOM)
      },
      // see TCP_KEEPALIVE_IDLE_MS for why the relay does not ping its peers
      connectionMonitor: { enabled: false },
      connectionGater: {
        // Peers on private networks (a LAN, a test machine) are legitimate users of a relay
        denyDialMultiaddr: () => false,
        // the remote's identity is proven by Noise by now; unlisted peers get nothing, so
        // every stream the HOP server sees comes from an allowed peer
        denyInboundEncryptedConnection: (peer) => allowed !== undefined && !allowed.has(peer.toString())
      },
      services: {
        // peers identify the relay; the relay needs nothing from them, so it does not
        // ask (a stream and a peer-store write less per connection)
        identify: identify({ runOnConnectionOpen: false }),
        ping: ping({ maxInboundStreams: PING_STREAMS_PER_CONNECTION })
      }
    })

    const log = node.logger.forComponent(LOG_NAMESPACE)
    const auth = verifier === undefined
      ? undefined
      : new AuthServer({ verifier, counters, log }, { timeoutMs: AUTH_TIMEOUT_MS, maxMessageBytes: MAX_AUTH_MESSAGE_BYTES })
    if (auth !== undefined) {
      await node.handle(AUTH_PROTOCOL, async (stream, connection) => { await auth.onAuth(stream, connection) }, {
        maxInboundStreams: AUTH_STREAMS_PER_CONNECTION,
        runOnLimitedConnection: true
      })
    }
    const hop = new HopServer({
      peerId: node.peerId,
      privateKey,
      reservations,
      counters,
      log,
      getConnections: peer => node.getConnections(peer),
      addresses: () => node.getMultiaddrs().filter(ma => !ma.toString().includes('/p2p-circuit')),
      ...(metrics === undefined ? {} : { circuitDurations: metrics.circuitDurations }),
      ...(auth === undefined ? {} : { authorize: (connection: Connection) => auth.isGranted(connection) })
    }, {
      hopTimeoutMs: HOP_TIMEOUT_MS,
      maxMessageBytes: MAX_HOP_MESSAGE_BYTES,
      maxCircuits: Math.max(1, Math.floor(config.circuitBufferBudgetBytes / (2 * CIRCUIT_WINDOW_BYTES))),
      maxCircuitsPerPeer: config.maxCircuitsPerPeer,
      circuitLimits: {
        maxBytes: config.maxCircuitBytes,
        maxDurationMs: config.maxCircuitSeconds === undefined ? undefined : config.maxCircuitSeconds * 1000
      }
    })
    await node.handle(HOP_PROTOCOL, async (stream, connection) => { await hop.onHop(stream, connection) }, {
      // one HOP stream per circuit the peer opened, plus one for a reservation
      maxInboundStreams: config.maxCircuitsPerPeer + 1,
      runOnLimitedConnection: true
    })

    // rooms: /lifeline/rooms/1.0.0 and the directory they share with the fleet
    rooms = await startRooms({
      node,
      reservations,
      counters,
      ...(auth === undefined ? {} : { authorization: auth })
    }, config)

    // a reservation belongs to a live peer: gone with its holder's last connection
    node.addEventListener('peer:disconnect', event => {
      if (reservations.drop(event.detail)) {
        counters.increment('reservations-dropped-on-disconnect')
      }
    })

    const reaper = new IdleReaper({
      idleTimeoutMs: config.idleTimeoutMs,
      connections: () => node.getConnections(),
      hasReservation: peer => reservations.has(peer),
      onClose: () => { counters.increment('idle-timeout') }
    })
    const sweep = setInterval(() => {
      counters.increment('reservations-expired', reservations.sweep())
      limits.sweep()
      reaper.sweep()
    }, Math.min(SWEEP_INTERVAL_MS, config.idleTimeoutMs))

    const multiaddrs = node.getMultiaddrs().map(ma => ma.toString())
    log('relay %p listening on %s', node.peerId, multiaddrs.join(' '))
    holdings = () => ({
      ...limits.snapshot(),
      reservations: reservations.size,
      circuits: hop.circuits,
      // every transport the relay listens on has a series, zero included
      connectionsByTransport: {
        [certificates === undefined ? 'ws' : 'wss']: 0,
        ...(webrtc === undefined ? {} : { 'webrtc-direct': 0 }),
        ...countByTransport(node.getConnections().map(c => c.remoteAddr.toString()))
      }
    })
    state = 'ready'

    return {
      peerId: node.peerId.toString(),
      multiaddrs,
      keyCreated: created,
      webrtcDirect: webrtc === undefined
        ? undefined
        : { certificateFile: webrtcCertificateFile, certhash: webrtc.certificate.certhash, created: webrtc.created, validTo: webrtc.validTo },
      metricsUrl: metricsServer?.url,
      events: certificates ?? new TypedEventEmitter<RelayEvents>(),
      tlsCertificate: () => certificates?.info,
      reloadTls: async () => {
        if (certificates === undefined) {
          throw new ConfigError('this relay serves no TLS: start it with --tls-cert and --tls-key')
        }
        return certificates.reload()
      },
      reloadAllowlist: async () => {
        if (config.allowPeersFile === undefined) {
          throw new ConfigError('this relay has no allowed-peers list: start it with --allow-peers')
        }
        const listed = await loadAllowlist(config.allowPeersFile)
        allowed = listed
        const dropped = node.getConnections().filter(c => !listed.has(c.remotePeer.toString()))
        log('allowed-peers list reloaded: %d peers, closing %d connections of peers no longer listed', listed.size, dropped.length)
        await Promise.all(dropped.map(async c => { await c.close().catch(() => { c.abort(new Error('peer no longer allowed')) }) }))
        return listed.size
      },
      stats: () => ({
        ...limits.snapshot(),
        reservations: reservations.size,
        circuits: hop.circuits,
        counters: counters.snapshot(),
        rooms: rooms?.holdings() ?? { members: 0, rooms: 0, directory: 'memory' }
      }),
      stop: async () => {
        state = 'stopping'
        clearInterval(sweep)
        certificates?.close()
        hop.stop()
        try {
          await rooms?.stop()
          await node.stop()
        } finally {
          await metricsServer?.close()
        }
        log('relay stopped')
      }
    }
  }
}

/** The transports a connection's address may end in, outermost first. */
const TRANSPORTS = ['wss', 'ws', 'webrtc-direct', 'webtransport', 'quic-v1', 'tcp']

/** Connections per transport, named by the outermost transport in their address. */
export function countByTransport (remoteAddrs: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const addr of remoteAddrs) {
    const parts = addr.split('/')
    // the relay's own TLS listener writes WebSockets over TLS as /tls/ws
    const transport = parts.includes('tls') && parts.includes('ws') ? 'wss' : TRANSPORTS.find(name => parts.includes(name)) ?? 'other'
    counts[transport] = (counts[transport] ?? 0) + 1
  }
  return counts
}
