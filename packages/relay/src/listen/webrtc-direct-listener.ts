/**
 * The relay's WebRTC-Direct door (UDP): @libp2p/webrtc's `webRTCDirect` listener,
 * with the relay's persistent certificate and the same per-source admission,
 * handshake deadline and stream caps as its WebSocket listener.
 *
 * A datagram's way in, upstream (@libp2p/webrtc 6.0.33, `private-to-public/`):
 * one UDP socket (node-datachannel's `IceUdpMuxListener`, libjuice) reads every
 * datagram. Junk and STUN for an ICE session that exists stay in native code. A
 * STUN binding request with an unknown ufrag crosses into JavaScript
 * (`onUnhandledStunRequest` -> `handleStunRequest`, which drops ufrags that are not
 * valid ICE credentials) and reaches the listener's `incomingConnection(ufrag,
 * host, port, signal)`, which allocates an RTCPeerConnection (libdatachannel ICE
 * agent on the shared socket, DTLS, SCTP) for every new host:port:ufrag, with no cap
 * of its own. libp2p's connection manager and gater only see it after DTLS, SCTP and
 * Noise, inside `upgradeInbound`.
 *
 * So admission sits in front of `incomingConnection`: each new host:port:ufrag is a
 * connection attempt counted against the source's and the relay's caps (connections,
 * rate, pending handshakes) before upstream allocates anything, and gets the
 * handshake deadline. What upstream still does before that check, per datagram: one
 * native-to-JavaScript callback and a ufrag string; nothing is kept. That hook is a
 * method of upstream's listener, not a public API: `hookAdmission` checks it exists
 * and refuses to start otherwise, so an upgrade that moves it fails loudly, not open.
 */
import { transportSymbol, UnsupportedOperationError } from '@libp2p/interface'
import { webRTCDirect } from '@libp2p/webrtc'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { Counters } from '../watch/counters.js'
import type { SourceLimits } from '../guard/source-limits.js'
import type { WebRtcCertificate } from './webrtc-direct-certificate.js'
import type { ComponentLogger, CreateListenerOptions, Listener, Logger, Startable, Transport } from '@libp2p/interface'

export interface RelayWebRTCDirectInit {
  certificate: WebRtcCertificate
  limits: SourceLimits
  counters: Counters
  /** From the first STUN request of a session to an established libp2p connection. */
  handshakeTimeoutMs: number
  /** Data channels one connection may have open at once (Yamux's maxInboundStreams on WebSockets). */
  maxChannelsPerConnection: number
  /** Largest data channel message. */
  maxMessageBytes: number
  /** Bytes queued on one data channel before its writer is asked to wait. */
  maxBufferedBytes: number
  /** A stream's unread bytes before it is reset, as on Yamux streams. */
  maxReadBufferBytes: number
  /** A stream's unsent bytes before it is reset, as on Yamux streams. */
  maxWriteBufferBytes: number
  /** Data channels buffered before the connection's muxer exists. */
  maxEarlyStreams: number
}

/** The few members of an RTCPeerConnection (node-datachannel's polyfill) the admission needs. */
interface PeerConnectionLike {
  readonly connectionState: string
  addEventListener(type: string, listener: (event: Event) => void): void
  close(): void
}

/** The upstream listener's internals the admission hooks (see the module comment). */
interface UpstreamListener extends Listener {
  incomingConnection(ufrag: string, host: string, port: number, signal: AbortSignal): Promise<void>
  connections: Map<string, PeerConnectionLike>
}

/** One admitted connection attempt: a host:port:ufrag from STUN to close. */
interface Attempt {
  host: string
  pending: boolean
  released: boolean
  deadline: ReturnType<typeof setTimeout>
  abort: AbortController
}

const WEBRTC_DIRECT_ADDRESS = /^\/ip[46]\/[^/]+\/udp\/\d+\/webrtc-direct$/
const ENDED_STATES: ReadonlySet<string> = new Set(['failed', 'disconnected', 'closed'])

function isUpstreamListener (listener: Listener): listener is UpstreamListener {
  const candidate = listener as Partial<UpstreamListener>
  return typeof candidate.incomingConnection === 'function' && candidate.connections instanceof Map
}

/**
 * Puts the relay's admission in front of upstream's per-ufrag RTCPeerConnection.
 *
 * @throws Error when upstream's listener no longer has the method this hooks
 */
export function hookAdmission (listener: Listener, init: RelayWebRTCDirectInit, log: Logger): void {
  if (!isUpstreamListener(listener)) {
    throw new Error('@libp2p/webrtc\'s WebRTC-Direct listener has no incomingConnection(): the relay cannot apply its admission limits to it, so it does not listen')
  }
  const upstream = listener.incomingConnection.bind(listener)
  const upstreamClose = listener.close.bind(listener)
  const attempts = new Map<string, Attempt>()
  let closing = false

  const release = (key: string, attempt: Attempt): void => {
    if (attempt.released) {
      return
    }
    attempt.released = true
    clearTimeout(attempt.deadline)
    attempts.delete(key)
    init.limits.connectionClosed(attempt.host, attempt.pending)
  }

  /** Caps the data channels the remote opens, as Yamux's maxInboundStreams does on WebSockets. */
  const capChannels = (peerConnection: PeerConnectionLike): void => {
    let open = 0
    peerConnection.addEventListener('datachannel', event => {
      const channel = (event as RTCDataChannelEvent).channel
      if (open >= init.maxChannelsPerConnection) {
        log.trace('closing a data channel over the cap of %d', init.maxChannelsPerConnection)
        channel.close()
        return
      }
      open++
      channel.addEventListener('close', () => { open-- }, { once: true })
    })
  }

  listener.incomingConnection = async (ufrag, host, port, signal) => {
    const key = `${host}:${port}:${ufrag}`
    // ICE retransmits its binding requests until answered: one attempt per session
    if (attempts.has(key) || closing) {
      return
    }
    const refusal = init.limits.admitConnection(host)
    if (refusal !== undefined) {
      init.counters.increment(`refused-${refusal}`)
      log.trace('refused a WebRTC-Direct session from %s:%d: %s', host, port, refusal)
      return
    }
    const abort = new AbortController()
    const attempt: Attempt = {
      host,
      pending: true,
      released: false,
      abort,
      deadline: setTimeout(() => {
        init.counters.increment('handshake-timeout')
        abort.abort(new Error('WebRTC-Direct handshake deadline'))
        listener.connections.get(key)?.close()
      }, init.handshakeTimeoutMs)
    }
    attempts.set(key, attempt)
    try {
      // upstream's signal carries shutdown and libp2p's inbound upgrade timeout
      await upstream(ufrag, host, port, AbortSignal.any([signal, abort.signal]))
    } catch (err: unknown) {
      // a deadline or shutdown aborted it, and counted it if it counts
      if (!abort.signal.aborted) {
        init.counters.increment('handshake-failed')
      }
      log.trace('WebRTC-Direct handshake with %s:%d failed: %s', host, port, err instanceof Error ? err.message : String(err))
      release(key, attempt)
      // upstream logs its own rejections as errors; a failed handshake is routine
      return
    }
    clearTimeout(attempt.deadline)
    const peerConnection = listener.connections.get(key)
    if (peerConnection === undefined || ENDED_STATES.has(peerConnection.connectionState) || abort.signal.aborted) {
      release(key, attempt)
      return
    }
    attempt.pending = false
    init.limits.handshakeEnded(host)
    init.counters.increment('connections-accepted')
    init.counters.increment('connections-accepted-webrtc-direct')
    capChannels(peerConnection)
    peerConnection.addEventListener('connectionstatechange', () => {
      if (ENDED_STATES.has(peerConnection.connectionState)) {
        release(key, attempt)
      }
    })
  }

  listener.close = async () => {
    closing = true
    for (const attempt of attempts.values()) {
      attempt.abort.abort(new Error('relay stopping'))
    }
    try {
      await upstreamClose()
    } finally {
      for (const [key, attempt] of attempts) {
        release(key, attempt)
      }
    }
  }
}

interface RelayWebRTCDirectComponents {
  logger: ComponentLogger
}

/**
 * Upstream's transport with the relay's certificate and caps; it only listens (a
 * relay never dials), and every listener it makes goes through `hookAdmission`.
 */
class RelayWebRTCDirect implements Transport, Startable {
  readonly [transportSymbol] = true as const
  readonly [Symbol.toStringTag] = '@lifeline/relay-webrtc-direct'
  private readonly inner: Transport & Partial<Startable>
  private readonly init: RelayWebRTCDirectInit
  private readonly log: Logger

  constructor (inner: Transport & Partial<Startable>, init: RelayWebRTCDirectInit, components: RelayWebRTCDirectComponents) {
    this.inner = inner
    this.init = init
    this.log = components.logger.forComponent('lifeline:relay:webrtc-direct')
  }

  async start (): Promise<void> { await this.inner.start?.() }
  async stop (): Promise<void> { await this.inner.stop?.() }

  dial (): Promise<never> {
    return Promise.reject(new UnsupportedOperationError('the relay does not dial'))
  }

  createListener (options: CreateListenerOptions): Listener {
    const listener = this.inner.createListener(options)
    hookAdmission(listener, this.init, this.log)
    return listener
  }

  listenFilter = (addrs: Multiaddr[]): Multiaddr[] => addrs.filter(ma => WEBRTC_DIRECT_ADDRESS.test(ma.toString()))

  dialFilter = (): Multiaddr[] => []
}

export function relayWebRTCDirect (init: RelayWebRTCDirectInit): (components: Parameters<ReturnType<typeof webRTCDirect>>[0]) => Transport {
  const factory = webRTCDirect({
    certificate: init.certificate,
    // the relay is the public side: it needs no STUN server to learn its address,
    // and the default list would make it contact four public ones
    rtcConfiguration: { iceServers: [] },
    maxEarlyStreams: init.maxEarlyStreams,
    dataChannel: {
      maxMessageSize: init.maxMessageBytes,
      maxBufferedAmount: init.maxBufferedBytes,
      // read by the streams (spread into @libp2p/utils' AbstractStream init), though
      // DataChannelOptions does not declare them
      ...{ maxReadBufferLength: init.maxReadBufferBytes, maxWriteBufferLength: init.maxWriteBufferBytes }
    }
  })
  return components => new RelayWebRTCDirect(factory(components), init, components)
}

/** The UDP listen address a host and port make. */
export function webrtcDirectListenAddress (host: string, port: number): Multiaddr {
  return multiaddr(`/${host.includes(':') ? 'ip6' : 'ip4'}/${host}/udp/${port}/webrtc-direct`)
}

/**
 * An announced WebRTC-Direct address without `/certhash/` gets the relay's, so an
 * operator can announce `/dns4/relay.example.com/udp/4001/webrtc-direct`; other
 * addresses stay as they are.
 */
export function withCerthash (announce: readonly string[], certhash: string): string[] {
  return announce.map(addr => {
    const parts = addr.split('/')
    const at = parts.indexOf('webrtc-direct')
    if (at === -1 || parts[at + 1] === 'certhash') {
      return addr
    }
    return [...parts.slice(0, at + 1), 'certhash', certhash, ...parts.slice(at + 1)].join('/')
  })
}
