/**
 * The Peer behind `createPeer()`: owns the libp2p node, the relay pool and one Link
 * per remote peer. Outbound links get a LinkRoutes that races the relays, keeps a
 * spare route and upgrades to WebRTC; inbound links follow what the remote opens.
 */
import { privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { Connection, Logger, PeerId, PrivateKey, Stream } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { multiaddr } from '@multiformats/multiaddr'
import { TypedEventEmitter } from 'main-event'
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_ONLINE_TIMEOUT_MS, LINK_PROTOCOL } from '../../constants.js'
import { isLifelineError, LifelineError } from '../../errors.js'
import type { AbortOptions, ConnectOptions, Link, Peer, PeerEvents, PeerStatus, RelayStatus } from '../../types.js'
import { LinkImpl } from '../link/link.js'
import { reserve } from '../relay/hop.js'
import { RelayPool } from '../relay/pool.js'
import { onNetworkOnline } from '../runtime/network.js'
import { abortError, deadline, isTimeoutReason, waitFor } from '../util/abort.js'
import { parsePeerId, relayOf, type RelayAddress } from '../util/parse.js'
import { createNode, type Libp2pNode } from './libp2p-node.js'
import { LinkRoutes } from './link-routes.js'

export interface PeerConfig {
  privateKey: PrivateKey
  relays: RelayAddress[]
  reservations: number
  iceServers: RTCIceServer[]
  direct: boolean
  allowPrivateAddresses: boolean
  maxMessageBytes: number
  sendBufferBytes: number
}

interface LinkState {
  link: LinkImpl
  /** Outbound links only: the side that opened a link keeps its routes. */
  routes?: LinkRoutes
}

export class PeerImpl extends TypedEventEmitter<PeerEvents> implements Peer {
  readonly peerId: string
  private readonly config: PeerConfig
  private readonly node: Libp2pNode
  private readonly pool: RelayPool
  private readonly linkStates = new Map<string, LinkState>()
  /**
   * Deadline signals of calls under way. Holding them keeps a caller's
   * `AbortSignal.timeout()` alive until it fires: a browser may collect a signal nothing
   * else references, and the call would then wait for ever.
   */
  private readonly inFlight = new Set<AbortSignal>()
  /** The relay (peer ID) each relayed connection a frame came on goes through; '' for none. */
  private readonly relayOfConnection = new WeakMap<Connection, string>()
  /** Connections a link stream is being opened on. */
  private readonly attaching = new Set<string>()
  private readonly log: Logger
  private readonly changed = new EventTarget()
  private started = false
  private wasOnline = false
  private stopWatchingNetwork: (() => void) | undefined

  static async create (config: PeerConfig): Promise<PeerImpl> {
    return new PeerImpl(config, await createNode(config))
  }

  private constructor (config: PeerConfig, node: Libp2pNode) {
    super()
    this.config = config
    this.node = node
    this.peerId = node.peerId.toString()
    this.log = logger(`lifeline:peer:${this.peerId.slice(-6)}`)
    this.pool = new RelayPool(config.relays, config.reservations, {
      dial: async (ma, options) => this.node.dial(ma, options),
      reserve,
      ping: async (connection, options) => this.node.services.ping.ping(connection.remotePeer, options),
      abort: (connection, err) => { connection.abort(err) },
      now: () => Date.now(),
      random: Math.random,
      log: logger(`lifeline:relay-pool:${this.peerId.slice(-6)}`)
    }, status => { this.onRelayChange(status) })
  }

  async start (): Promise<void> {
    if (this.started) {
      return
    }
    await this.node.handle(LINK_PROTOCOL, (stream, connection) => { this.onLinkStream(stream, connection) }, {
      runOnLimitedConnection: true
    })
    this.node.addEventListener('connection:open', this.onConnectionOpen)
    await this.node.start()
    this.started = true
    this.pool.start()
    this.stopWatchingNetwork = onNetworkOnline(() => {
      this.log('network is back; retrying relays now')
      this.pool.retryNow()
    })
    this.onStatusChange()
  }

  async stop (): Promise<void> {
    if (!this.started) {
      return
    }
    this.started = false
    for (const { link } of [...this.linkStates.values()]) {
      await link.close()
    }
    this.stopWatchingNetwork?.()
    this.pool.stop()
    this.node.removeEventListener('connection:open', this.onConnectionOpen)
    await this.node.stop()
    this.onStatusChange()
  }

  async online (options: AbortOptions = {}): Promise<void> {
    const limit = deadline(options, DEFAULT_ONLINE_TIMEOUT_MS, 'Waiting for a relay reservation')
    this.inFlight.add(limit.signal)
    try {
      await waitFor(this.changed, 'change', () => {
        if (!this.started) {
          throw new LifelineError('NOT_STARTED', 'Call start() before online()')
        }
        return this.pool.reserved().length > 0
      }, { signal: limit.signal })
    } catch (err) {
      // waiting ran out of time, whoever set the deadline: that is an unreachable relay
      if (limit.signal.aborted && isTimeoutReason(limit.signal.reason)) {
        throw new LifelineError('RELAY_UNREACHABLE', `No relay granted a reservation: ${this.describeRelays()}`, { cause: err })
      }
      throw err
    } finally {
      limit.clear()
      this.inFlight.delete(limit.signal)
    }
  }

  status (): PeerStatus {
    const reserved = this.started ? this.pool.reserved() : []
    return {
      peerId: this.peerId,
      started: this.started,
      online: reserved.length > 0,
      relays: this.pool.status(),
      links: [...this.linkStates.values()].map(({ link }) => link.status()),
      addresses: reserved.map(r => `${r.text}/p2p-circuit/p2p/${this.peerId}`)
    }
  }

  links (): Link[] {
    return [...this.linkStates.values()].map(s => s.link)
  }

  async connect (peerId: string, options: ConnectOptions = {}): Promise<Link> {
    const remote = parsePeerId(peerId)
    if (!this.started) {
      throw new LifelineError('NOT_STARTED', 'Call start() before connect()')
    }
    if (remote.equals(this.node.peerId)) {
      throw new LifelineError('INVALID_PEER_ID', 'A peer cannot connect to itself')
    }
    const existing = this.linkStates.get(remote.toString())
    if (existing !== undefined) {
      await existing.link.ready(options)
      return existing.link
    }
    const state = this.addLink(remote.toString(), 'outbound')
    const routes = this.createRoutes(state.link, remote)
    state.routes = routes
    const limit = deadline(options, DEFAULT_CONNECT_TIMEOUT_MS, `Connecting to ${peerId}`)
    this.inFlight.add(limit.signal)
    try {
      await routes.connect(limit.signal, options)
      await state.link.ready({ signal: limit.signal })
      options.onProgress?.({ type: 'link-open' })
    } catch (err) {
      state.link.shutdown(undefined)
      throw isLifelineError(err) ? err : abortError(limit.signal, `Connecting to ${peerId}`)
    } finally {
      limit.clear()
      this.inFlight.delete(limit.signal)
    }
    routes.start()
    return state.link
  }

  async handle (protocol: string, handler: (stream: Stream, remotePeerId: string) => void): Promise<void> {
    await this.node.handle(protocol, (stream, connection) => {
      handler(stream, connection.remotePeer.toString())
    }, { runOnLimitedConnection: true })
  }

  exportPrivateKey (): Uint8Array {
    return privateKeyToProtobuf(this.config.privateKey)
  }

  private createRoutes (link: LinkImpl, remote: PeerId): LinkRoutes {
    return new LinkRoutes(link, remote, {
      dialRelayed: async (relay, target, signal) => {
        // reuse an open circuit through this relay; otherwise force a new one, since
        // libp2p would hand back the circuit through another relay (a spare must not share it)
        const relayId = relay.peerId.toString()
        const existing = this.node.getConnections(target)
          .find(c => c.status === 'open' && !c.direct && relayOf(c.remoteAddr) === relayId)
        const connection = existing ?? await this.node.dial(multiaddr(`${relay.text}/p2p-circuit/p2p/${target.toString()}`), { signal, force: true })
        try {
          const stream = await connection.newStream(LINK_PROTOCOL, { signal, runOnLimitedConnection: true })
          return { connection, stream }
        } catch (err) {
          await connection.close()
          throw err
        }
      },
      dialDirect: async (ma, signal, onProgress) => this.node.dial(ma, { signal, onProgress }),
      directConnections: () => this.node.getConnections(remote).filter(c => c.direct && c.status === 'open'),
      attachDirect: connection => { void this.attachLinkStream(link, connection) },
      relays: () => this.pool.ranked(),
      direct: this.config.direct,
      log: logger(`lifeline:routes:${remote.toString().slice(-6)}`)
    })
  }

  /** Open a link stream on `connection` for `link`, once per connection however often asked. */
  private async attachLinkStream (link: LinkImpl, connection: Connection): Promise<void> {
    if (this.attaching.has(connection.id) || link.hasPathOn(connection)) {
      return
    }
    this.attaching.add(connection.id)
    try {
      const stream = await connection.newStream(LINK_PROTOCOL, { runOnLimitedConnection: true })
      link.attach(stream, connection)
    } catch (err) {
      this.log('could not open a link stream on %a - %e', connection.remoteAddr, err)
    } finally {
      this.attaching.delete(connection.id)
    }
  }

  private addLink (remotePeerId: string, direction: 'outbound' | 'inbound'): LinkState {
    const state: LinkState = {
      link: new LinkImpl({
        remotePeerId,
        direction,
        maxMessageBytes: this.config.maxMessageBytes,
        sendBufferBytes: this.config.sendBufferBytes,
        log: logger(`lifeline:link:${remotePeerId.slice(-6)}`),
        newStream: async (connection, protocol, options) => this.newStream(connection, protocol, options),
        onClose: closed => { this.onLinkClosed(closed) },
        onRemoteDirectUp: () => { state.routes?.remoteReportsDirectUp() },
        onPathLost: (tier, remaining) => { this.onLinkPathLost(state, tier, remaining) },
        onFrameReceived: connection => { this.onFrameReceived(connection) }
      })
    }
    state.link.addEventListener('pathchange', this.onStatusChange)
    this.linkStates.set(remotePeerId, state)
    this.onStatusChange()
    return state
  }

  private async newStream (connection: Connection, protocol: string, options: AbortOptions): Promise<Stream> {
    try {
      return await connection.newStream(protocol, { ...options, runOnLimitedConnection: true })
    } catch (err) {
      if (options.signal?.aborted === true) {
        throw abortError(options.signal, `Opening ${protocol}`)
      }
      if (err instanceof Error && err.name === 'UnsupportedProtocolError') {
        throw new LifelineError('UNSUPPORTED_PROTOCOL', `Peer ${connection.remotePeer.toString()} does not handle ${protocol}`, { cause: err })
      }
      throw new LifelineError('LINK_CLOSED', `Could not open ${protocol}: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
    }
  }

  private onLinkStream (stream: Stream, connection: Connection): void {
    const remote = connection.remotePeer.toString()
    let state = this.linkStates.get(remote)
    const isNew = state === undefined
    state ??= this.addLink(remote, 'inbound')
    const link = state.link
    link.attach(stream, connection)
    if (isNew) {
      // announce the link only once its handshake is done: garbage never becomes a link
      link.ready().then(() => {
        this.safeDispatchEvent('link', { detail: link })
      }, (err: unknown) => {
        this.log('incoming link from %s failed its handshake - %e', remote, err)
      })
    }
  }

  private onLinkClosed (link: LinkImpl): void {
    const state = this.linkStates.get(link.remotePeerId)
    if (state?.link !== link) {
      return
    }
    this.linkStates.delete(link.remotePeerId)
    state.routes?.stop()
    link.removeEventListener('pathchange', this.onStatusChange)
    // a direct connection exists for this link only; relayed circuits stay for reuse
    for (const connection of this.node.getConnections(parsePeerId(link.remotePeerId))) {
      if (connection.direct) {
        connection.close().catch((err: unknown) => { this.log('closing a direct connection failed - %e', err) })
      }
    }
    this.onStatusChange()
  }

  private onLinkPathLost (state: LinkState, tier: 'direct' | 'relayed', remaining: number): void {
    const { link } = state
    if (remaining === 0 && !link.established && link.direction === 'inbound') {
      link.shutdown(new LifelineError('PROTOCOL_ERROR', `Incoming link from ${link.remotePeerId} failed its handshake`))
      return
    }
    if (tier === 'direct') {
      state.routes?.directLost()
    }
    state.routes?.check()
  }

  private readonly onConnectionOpen = (evt: CustomEvent<Connection>): void => {
    const connection = evt.detail
    const state = this.linkStates.get(connection.remotePeer.toString())
    if (state !== undefined && connection.direct && !state.link.hasPathOn(connection)) {
      if (state.routes !== undefined) {
        state.routes.check()
      } else {
        state.link.reportDirectUp()
      }
    }
  }

  /** A frame that came through a relay shows the relay is alive: its pings may be queued behind it. */
  private onFrameReceived (connection: Connection): void {
    if (connection.direct) {
      return
    }
    let relay = this.relayOfConnection.get(connection)
    if (relay === undefined) {
      relay = relayOf(connection.remoteAddr) ?? ''
      this.relayOfConnection.set(connection, relay)
    }
    if (relay !== '') {
      this.pool.heardFrom(relay)
    }
  }

  private onRelayChange (status: RelayStatus): void {
    this.safeDispatchEvent('relay', { detail: status })
    this.onStatusChange()
  }

  private readonly onStatusChange = (): void => {
    this.changed.dispatchEvent(new Event('change'))
    const status = this.status()
    if (status.online !== this.wasOnline) {
      this.wasOnline = status.online
      this.safeDispatchEvent('online', { detail: status.online })
    }
    this.safeDispatchEvent('status', { detail: status })
  }

  private describeRelays (): string {
    return this.pool.status().map(r => `${r.multiaddr} (${r.state}${r.lastError === undefined ? '' : `: ${r.lastError}`})`).join(', ')
  }
}
