/**
 * The relay's public door: a WebSocket listener written for hostile input. It
 * replaces @libp2p/websockets on the relay because that listener attaches no
 * 'error' listener to server sockets (one malformed frame ends the process), accepts
 * 100 MiB messages, and gives a socket that never speaks no deadline.
 *
 * A byte's way in: TCP accept (per-source admission) -> TLS handshake when it serves
 * TLS itself (deadline; certificates reloaded in tls-certificates.ts) -> HTTP upgrade (deadline) ->
 * WebSocket frames (size cap, every protocol error closes only that socket) ->
 * libp2p upgrade: multistream, Noise, Yamux (deadline) -> a libp2p connection.
 */
import { setMaxListeners } from 'node:events'
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https'
import { UnsupportedOperationError, transportSymbol } from '@libp2p/interface'
import { getNetConfig, getThinWaistAddresses, ipPortToMultiaddr } from '@libp2p/utils'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { TypedEventEmitter } from 'main-event'
import { WebSocketServer, type WebSocket } from 'ws'
import { wsConnection } from './ws-connection.js'
import type { Counters } from '../watch/counters.js'
import type { SourceLimits } from '../guard/source-limits.js'
import type { TlsCertificates } from './tls-certificates.js'
import type { ComponentLogger, CreateListenerOptions, Listener, ListenerEvents, Logger, Transport, Upgrader } from '@libp2p/interface'
import type { EventEmitter } from 'node:events'
import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import type { Duplex } from 'node:stream'

export interface RelayWebSocketsInit {
  limits: SourceLimits
  counters: Counters
  /** From TCP accept to a completed WebSocket upgrade. */
  upgradeTimeoutMs: number
  /** From the WebSocket upgrade to an established libp2p connection. */
  handshakeTimeoutMs: number
  maxMessageBytes: number
  maxHeaderBytes: number
  maxBufferedBytes: number
  /** Silence after which the kernel starts TCP keepalive probes. */
  keepAliveIdleMs: number
  /** Serve TLS with these certificates (addresses end in `/tls/ws`); undefined serves plain WebSockets. */
  tls: RelayTlsInit | undefined
}

export interface RelayTlsInit {
  certificates: TlsCertificates
  /** From TCP accept to a finished TLS handshake. */
  handshakeTimeoutMs: number
}

interface RelayWebSocketsComponents {
  logger: ComponentLogger
}

/** What the listener knows about one accepted TCP socket. */
interface SocketState {
  address: string | undefined
  /** Still before an established libp2p connection: counts as a pending handshake. */
  pending: boolean
  deadline: ReturnType<typeof setTimeout>
  /** The deadline closed the socket (and counted it). */
  timedOut: boolean
}

const WS_ADDRESS = /^\/ip[46]\/[^/]+\/tcp\/\d+(\/tls)?\/ws$/

/**
 * A socket's remote endpoint: with TLS the HTTP server sees the TLSSocket, not the TCP
 * socket admission counted, and Node links the two only through a private field; both
 * report the TCP socket's address and port, which no other open socket shares.
 */
function endpoint (socket: Socket): string {
  return `${socket.remoteAddress ?? ''}|${socket.remotePort ?? ''}`
}

class RelayWebSocketListener extends TypedEventEmitter<ListenerEvents> implements Listener {
  private readonly init: RelayWebSocketsInit
  private readonly upgrader: Upgrader
  private readonly log: Logger
  private readonly logger: ComponentLogger
  private readonly server: HttpServer | HttpsServer
  private readonly wss: WebSocketServer
  private readonly sockets = new Map<Socket, SocketState>()
  private readonly byEndpoint = new Map<string, Socket>()
  private readonly wsSuffix: '/ws' | '/tls/ws'
  private readonly stopCertificateUpdates: () => void
  private readonly shutdown = new AbortController()
  private listening: Multiaddr | undefined

  constructor (components: RelayWebSocketsComponents, init: RelayWebSocketsInit, upgrader: Upgrader) {
    super()
    // every handshake in flight listens on this one signal (the pending caps bound them)
    setMaxListeners(Infinity, this.shutdown.signal)
    this.init = init
    this.upgrader = upgrader
    this.logger = components.logger
    this.log = components.logger.forComponent('lifeline:relay:listener')

    const httpOptions = {
      maxHeaderSize: init.maxHeaderBytes,
      // Node's own header and request deadlines back up the per-socket deadline below
      headersTimeout: init.upgradeTimeoutMs,
      requestTimeout: init.upgradeTimeoutMs,
      keepAliveTimeout: init.upgradeTimeoutMs
    }
    const tls = init.tls
    if (tls === undefined) {
      this.server = createServer(httpOptions)
      this.wsSuffix = '/ws'
      this.stopCertificateUpdates = () => {}
    } else {
      const server = createHttpsServer({ ...httpOptions, ...tls.certificates.files, handshakeTimeout: tls.handshakeTimeoutMs })
      // new handshakes get the new certificate; sessions already open keep theirs
      this.stopCertificateUpdates = tls.certificates.onChange(files => { server.setSecureContext(files) })
      server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
        if (err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') {
          this.init.counters.increment('tls-handshake-timeout')
        } else if (err.code !== 'ECONNRESET') {
          // ECONNRESET: closed before the handshake ended, by the peer or by a
          // deadline that counted it; the rest is a client that does not speak TLS
          // (or not with this certificate)
          this.init.counters.increment('tls-error')
        }
        this.log.trace('TLS error from %s: %s', socket.remoteAddress, err.code ?? err.message)
        socket.destroy()
      })
      this.server = server
      this.wsSuffix = '/tls/ws'
    }
    // http and https servers emit the same events, with overloads TypeScript cannot unite
    const events: EventEmitter = this.server
    events.on('connection', (socket: Socket) => { this.onSocket(socket) })
    events.on('request', (req: IncomingMessage, res: ServerResponse) => { this.onPlainRequest(req, res) })
    events.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => { this.onUpgrade(req, socket, head) })
    events.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      // malformed HTTP, oversized headers, a reset mid-request: that socket alone goes.
      // Errors of the socket itself (a reset) reach here too, and are already counted
      // by the socket's own listener.
      if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
        this.init.counters.increment('upgrade-timeout')
      } else if (err.code?.startsWith('HPE_') === true) {
        this.init.counters.increment('socket-error')
      }
      this.log.trace('HTTP client error %s', err.code ?? err.message)
      socket.destroy()
    })

    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: init.maxMessageBytes,
      perMessageDeflate: false,
      clientTracking: false
    })
    // a bad handshake (wrong version, missing key): only that socket is closed
    this.wss.on('wsClientError', (_err, socket) => {
      this.init.counters.increment('ws-protocol-error')
      socket.destroy()
    })
  }

  private onSocket (socket: Socket): void {
    const address = socket.remoteAddress
    const refusal = this.init.limits.admitConnection(address)
    if (refusal !== undefined) {
      this.init.counters.increment(`refused-${refusal}`)
      this.log.trace('refused a socket from %s: %s', address, refusal)
      socket.destroy()
      return
    }
    const state: SocketState = {
      address,
      pending: true,
      timedOut: false,
      deadline: setTimeout(() => {
        state.timedOut = true
        this.init.counters.increment('upgrade-timeout')
        socket.destroy()
      }, this.init.upgradeTimeoutMs)
    }
    this.sockets.set(socket, state)
    const key = endpoint(socket)
    this.byEndpoint.set(key, socket)
    socket.setNoDelay(true)
    socket.setKeepAlive(true, this.init.keepAliveIdleMs)
    socket.on('error', err => {
      this.init.counters.increment('socket-error')
      this.log.trace('socket error from %s: %s', address, err.message)
    })
    socket.once('close', () => {
      clearTimeout(state.deadline)
      this.sockets.delete(socket)
      if (this.byEndpoint.get(key) === socket) {
        this.byEndpoint.delete(key)
      }
      this.init.limits.connectionClosed(address, state.pending)
    })
  }

  private onPlainRequest (_req: IncomingMessage, res: ServerResponse): void {
    this.init.counters.increment('http-request-refused')
    res.writeHead(426, { 'content-type': 'text/plain', connection: 'close', upgrade: 'websocket' })
    res.end('This is a libp2p relay: connect with a WebSocket.\n')
  }

  private onUpgrade (req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // the socket `ws` writes to: the TCP socket, or the TLSSocket over it
    const tcp = req.socket
    const raw = this.byEndpoint.get(endpoint(tcp))
    const state = raw === undefined ? undefined : this.sockets.get(raw)
    if (state === undefined || this.shutdown.signal.aborted) {
      socket.destroy()
      return
    }
    this.wss.handleUpgrade(req, socket, head, ws => {
      clearTimeout(state.deadline)
      state.deadline = setTimeout(() => {
        state.timedOut = true
        this.init.counters.increment('handshake-timeout')
        ws.terminate()
      }, this.init.handshakeTimeoutMs)
      this.onWebSocket(ws, tcp, state)
    })
  }

  private onWebSocket (ws: WebSocket, tcp: Socket, state: SocketState): void {
    ws.on('error', err => {
      // oversized or unmasked frames, bad opcodes, bad UTF-8 in a close reason, bad
      // close codes: `ws` reports them here and would wait 30 s for a closing
      // handshake; a peer that sends them gets no such courtesy
      this.init.counters.increment('ws-protocol-error')
      this.log.trace('WebSocket error from %s: %s', state.address, err.message)
      ws.terminate()
    })

    const maConn = wsConnection({
      socket: ws,
      tcp,
      remoteAddr: ipPortToMultiaddr(tcp.remoteAddress ?? '0.0.0.0', tcp.remotePort ?? 0).encapsulate(this.wsSuffix),
      direction: 'inbound',
      log: this.logger.forComponent('lifeline:relay:connection'),
      maxBufferedBytes: this.init.maxBufferedBytes
    })

    // the deadline above ends a stalled handshake; the signal only carries shutdown
    const signal = this.shutdown.signal
    this.upgrader.upgradeInbound(maConn, { signal }).then(() => {
      clearTimeout(state.deadline)
      state.pending = false
      this.init.limits.handshakeEnded(state.address)
      this.init.counters.increment('connections-accepted')
      if (this.init.tls !== undefined) {
        this.init.counters.increment('connections-accepted-wss')
      }
    }, (err: unknown) => {
      clearTimeout(state.deadline)
      if (!state.timedOut && !signal.aborted) {
        this.init.counters.increment('handshake-failed')
      }
      this.log.trace('handshake with %s failed: %s', state.address, err instanceof Error ? err.message : String(err))
      maConn.abort(err instanceof Error ? err : new Error(String(err)))
      ws.terminate()
    })
  }

  async listen (ma: Multiaddr): Promise<void> {
    const config = getNetConfig(ma)
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen({ host: config.host, port: config.port, ipv6Only: config.type === 'ip6' }, () => {
        this.server.off('error', reject)
        resolve()
      })
    })
    this.listening = ma
    this.safeDispatchEvent('listening')
  }

  getAddrs (): Multiaddr[] {
    const address = this.server.address()
    if (address === null || typeof address === 'string' || this.listening === undefined) {
      return []
    }
    return getThinWaistAddresses(this.listening, address.port).map(ma => ma.encapsulate(this.wsSuffix))
  }

  updateAnnounceAddrs (): void {}

  async close (): Promise<void> {
    this.shutdown.abort()
    this.stopCertificateUpdates()
    const closed = new Promise<void>(resolve => { this.server.close(() => { resolve() }) })
    for (const socket of this.sockets.keys()) {
      socket.destroy()
    }
    this.wss.close()
    await closed
    this.safeDispatchEvent('close')
  }
}

/**
 * A libp2p transport that only listens: a relay never dials anyone, it is dialled.
 */
class RelayWebSockets implements Transport {
  readonly [transportSymbol] = true as const
  readonly [Symbol.toStringTag] = '@lifeline/relay-websockets'
  private readonly components: RelayWebSocketsComponents
  private readonly init: RelayWebSocketsInit

  constructor (components: RelayWebSocketsComponents, init: RelayWebSocketsInit) {
    this.components = components
    this.init = init
  }

  dial (): Promise<never> {
    return Promise.reject(new UnsupportedOperationError('the relay does not dial'))
  }

  createListener (options: CreateListenerOptions): Listener {
    return new RelayWebSocketListener(this.components, this.init, options.upgrader)
  }

  listenFilter = (addrs: Multiaddr[]): Multiaddr[] => addrs.filter(ma => WS_ADDRESS.test(ma.toString()))

  dialFilter = (): Multiaddr[] => []
}

export function relayWebSockets (init: RelayWebSocketsInit): (components: RelayWebSocketsComponents) => Transport {
  return components => new RelayWebSockets(components, init)
}

/** The listen address a host and port make; `/tls/ws` when the relay serves TLS. */
export function wsListenAddress (host: string, port: number, tls = false): Multiaddr {
  return multiaddr(`/${host.includes(':') ? 'ip6' : 'ip4'}/${host}/tcp/${port}${tls ? '/tls' : ''}/ws`)
}
