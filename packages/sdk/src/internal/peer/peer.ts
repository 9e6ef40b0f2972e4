/**
 * The Peer behind `createPeer()`: owns the libp2p node, the relay pool and one Link
 * per remote peer, each with its LinkRoutes (internal/routes/): for a link this peer
 * opened they race the relays, keep a spare route and upgrade to WebRTC; for a link
 * the remote opened they restore it when it has lost every path.
 */
import { privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { Connection, Logger, PeerId, PrivateKey, Stream } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { TypedEventEmitter } from 'main-event'
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_ONLINE_TIMEOUT_MS,
  LINK_PROTOCOL,
  MAX_PATHS_PER_LINK,
  MAX_PENDING_INBOUND_LINKS,
  ROOMS_PROTOCOL
} from '../../constants.js'
import { isLifelineError, LifelineError } from '../../errors.js'
import type { AbortOptions, ConnectOptions, JoinOptions, Link, LinkDirection, Peer, PeerEvents, PeerStatus, RelayStatus, RelayTokenSource, Room } from '../../types.js'
import { LinkImpl, type LinkPathEvents } from '../link/link.js'
import { authenticate } from '../relay/auth.js'
import { reserve } from '../relay/hop.js'
import { RelayConnector } from '../relay/connect.js'
import { RelayPool } from '../relay/pool.js'
import { Rooms } from '../rooms/rooms.js'
import { LinkRoutes, type LinkRoutesComponents } from '../routes/link-routes.js'
import { watchNetwork } from '../runtime/network.js'
import { abortError, deadline, isTimeoutReason, waitFor } from '../util/abort.js'
import { parsePeerId, type RelayAddress } from '../util/parse.js'
import { mergeRelays } from '../util/relays.js'
import { createNode, type Libp2pNode } from './libp2p-node.js'

export interface PeerConfig {
  privateKey: PrivateKey
  relays: RelayAddress[]
  reservations: number
  iceServers: RTCIceServer[]
  direct: boolean
  allowPrivateAddresses: boolean
  maxMessageBytes: number
  sendBufferBytes: number
  receiveWindowBytes: number
  maxInboundLinks: number
  relayToken: RelayTokenSource | undefined
  roomNamespace: string
}

interface LinkState {
  link: LinkImpl
  routes: LinkRoutes
}

export class PeerImpl extends TypedEventEmitter<PeerEvents> implements Peer {
  readonly peerId: string
  private readonly config: PeerConfig
  private readonly node: Libp2pNode
  private readonly pool: RelayPool
  private readonly connector: RelayConnector
  private readonly rooms: Rooms
  private readonly linkStates = new Map<string, LinkState>()
  /** What every link's routes use of the node and the pool (each adds its own log). */
  private readonly routeComponents: Omit<LinkRoutesComponents, 'log'>
  /**
   * Deadline signals of calls under way. Holding them keeps a caller's
   * `AbortSignal.timeout()` alive until it fires: a browser may collect a signal nothing
   * else references, and the call would then wait for ever.
   */
  private readonly inFlight = new Set<AbortSignal>()
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
    const { relayToken } = config
    this.connector = new RelayConnector({
      dialAddress: async (ma, options) => node.services.transports.dialAddress(ma, options),
      getConnections: peer => node.getConnections(peer),
      log: logger(`lifeline:relay-connect:${this.peerId.slice(-6)}`)
    })
    this.pool = new RelayPool(config.relays, config.reservations, {
      connect: async (relay, options) => this.connector.connect(relay, options),
      reserve,
      authenticate: relayToken === undefined
        ? undefined
        : async (connection, relay, options) => authenticate(connection, relay, relayToken, options),
      ping: async (connection, options) => this.node.services.ping.ping(connection.remotePeer, options),
      abort: (connection, err) => { connection.abort(err) },
      now: () => Date.now(),
      random: Math.random,
      log: logger(`lifeline:relay-pool:${this.peerId.slice(-6)}`)
    }, status => { this.onRelayChange(status) })
    this.routeComponents = {
      events: node,
      dial: async (ma, options) => node.dial(ma, options),
      connectRelay: async (relay, options) => this.connector.connect(relay, options),
      getConnections: peer => node.getConnections(peer),
      newStream: async (connection, { signal }) => connection.newStream(LINK_PROTOCOL, { signal, runOnLimitedConnection: true }),
      // ours first, then where rooms and LOOKUPs say the remote is reserved
      relays: remote => mergeRelays(this.pool.ranked(), this.rooms.hintsFor(remote.toString())),
      now: () => Date.now(),
      random: Math.random
    }
    this.rooms = new Rooms({
      self: node.peerId,
      privateKey: config.privateKey,
      namespace: config.roomNamespace,
      held: () => this.pool.held(),
      online: async options => this.online(options),
      newStream: async (connection, signal) => connection.newStream(ROOMS_PROTOCOL, { signal }),
      connect: async (peerId, options) => this.connect(peerId, options),
      link: peerId => this.linkStates.get(peerId)?.link,
      now: () => Date.now(),
      random: Math.random,
      log: logger(`lifeline:rooms:${this.peerId.slice(-6)}`),
      onChange: () => { this.onStatusChange() }
    })
  }

  async start (): Promise<void> {
    if (this.started) {
      return
    }
    await this.node.handle(LINK_PROTOCOL, (stream, connection) => { this.onLinkStream(stream, connection) }, {
      runOnLimitedConnection: true
    })
    await this.node.start()
    this.started = true
    this.pool.start()
    this.stopWatchingNetwork = watchNetwork({
      online: () => {
        this.log('network is back; retrying relays now')
        this.pool.retryNow()
      },
      offline: () => {
        this.log('network is gone; pinging relays now')
        this.pool.checkNow()
      }
    })
    this.onStatusChange()
  }

  async stop (): Promise<void> {
    if (!this.started) {
      return
    }
    this.started = false
    await this.rooms.stop()
    for (const { link } of [...this.linkStates.values()]) {
      await link.close()
    }
    this.stopWatchingNetwork?.()
    this.pool.stop()
    this.connector.stop()
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
      addresses: reserved.map(r => `${r.text}/p2p-circuit/p2p/${this.peerId}`),
      rooms: this.rooms.status()
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
    const state = this.addLink(remote, 'outbound')
    const limit = deadline(options, DEFAULT_CONNECT_TIMEOUT_MS, `Connecting to ${peerId}`)
    this.inFlight.add(limit.signal)
    try {
      await this.connectRoutes(state, remote, limit.signal, options)
      await state.link.ready({ signal: limit.signal })
      options.onProgress?.({ type: 'link-open' })
    } catch (err) {
      state.link.shutdown(undefined)
      throw isLifelineError(err) ? err : abortError(limit.signal, `Connecting to ${peerId}`)
    } finally {
      limit.clear()
      this.inFlight.delete(limit.signal)
    }
    state.routes.start()
    return state.link
  }

  async join (name: string, options: JoinOptions = {}): Promise<Room> {
    if (!this.started) {
      throw new LifelineError('NOT_STARTED', 'Call start() before join()')
    }
    return this.rooms.join(name, options)
  }

  /**
   * Race the relays for the remote; when none of them reaches it, ask ours where it is
   * reserved (LOOKUP) and race once more through the relays named, if any are new.
   */
  private async connectRoutes (state: LinkState, remote: PeerId, signal: AbortSignal, options: ConnectOptions): Promise<void> {
    const tried = new Set(this.routeComponents.relays(remote).map(r => r.peerId.toString()))
    try {
      await state.routes.connect(signal, options)
      return
    } catch (err: unknown) {
      if (!isLifelineError(err, 'PEER_UNREACHABLE')) {
        throw err
      }
      const found = await this.rooms.lookup(remote, signal)
      if (found.kind === 'found' && found.relays.some(r => !tried.has(r.peerId.toString()))) {
        this.log('LOOKUP: %p is reserved on %s; racing those', remote, found.relays.map(r => r.text).join(', '))
        await state.routes.connect(signal, options)
        return
      }
      if (found.kind === 'directory-unavailable') {
        throw new LifelineError('DIRECTORY_UNAVAILABLE', `${err.message}, and our relays could not look it up: their fleet directory is unreachable`, { cause: err })
      }
      throw err
    }
  }

  async handle (protocol: string, handler: (stream: Stream, remotePeerId: string) => void): Promise<void> {
    await this.node.handle(protocol, (stream, connection) => {
      handler(stream, connection.remotePeer.toString())
    }, { runOnLimitedConnection: true })
  }

  exportPrivateKey (): Uint8Array {
    return privateKeyToProtobuf(this.config.privateKey)
  }

  private addLink (remote: PeerId, direction: LinkDirection): LinkState {
    const remotePeerId = remote.toString()
    const pathEvents = new TypedEventEmitter<LinkPathEvents>()
    const link = new LinkImpl({
      remotePeerId,
      direction,
      maxMessageBytes: this.config.maxMessageBytes,
      sendBufferBytes: this.config.sendBufferBytes,
      receiveWindowBytes: this.config.receiveWindowBytes,
      log: logger(`lifeline:link:${remotePeerId.slice(-6)}`),
      newStream: async (connection, protocol, options) => this.newStream(connection, protocol, options),
      onClose: closed => { this.onLinkClosed(closed) },
      // a frame that came through a relay shows the relay alive: its pongs may queue behind it
      onFrameReceived: (relayPeerId, data) => { this.pool.heardFrom(relayPeerId, data) },
      onEstablished: established => {
        // an inbound link is announced once its handshake is done, and before its
        // first message: garbage never becomes a link, and no message is missed
        if (established.direction === 'inbound') {
          this.safeDispatchEvent('link', { detail: established })
        }
      },
      pathEvents
    })
    // the peer's own listener comes first: a link it discards needs no restoring
    pathEvents.addEventListener('path-lost', evt => { this.onPathLost(link, evt.detail.remaining) })
    const routes = new LinkRoutes({ link, pathEvents, remote, direct: this.config.direct }, {
      ...this.routeComponents,
      log: logger(`lifeline:routes:${remotePeerId.slice(-6)}`)
    })
    const state: LinkState = { link, routes }
    link.addEventListener('pathchange', this.onStatusChange)
    this.linkStates.set(remotePeerId, state)
    // a room forwards the messages of its members' links
    this.rooms.linkAdded(link)
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
    const refusal = this.refuseLinkStream(state)
    if (refusal !== undefined) {
      this.log('refusing a link stream from %s: %s', remote, refusal)
      stream.abort(new LifelineError('PROTOCOL_ERROR', refusal))
      return
    }
    if (state === undefined) {
      state = this.addLink(connection.remotePeer, 'inbound')
      // the remote keeps this link's spares and direct path; its routes here only
      // restore it once established, if it loses every path
      state.routes.start()
    }
    state.link.attach(stream, connection)
  }

  /** Why a new link stream must be refused (the caps on inbound links), if it must. */
  private refuseLinkStream (state: LinkState | undefined): string | undefined {
    if (state !== undefined) {
      return state.link.status().paths >= MAX_PATHS_PER_LINK
        ? `the link already has ${MAX_PATHS_PER_LINK} paths (MAX_PATHS_PER_LINK)`
        : undefined
    }
    let inbound = 0
    let pending = 0
    for (const { link } of this.linkStates.values()) {
      if (link.direction === 'inbound') {
        inbound++
        if (!link.established) {
          pending++
        }
      }
    }
    if (inbound >= this.config.maxInboundLinks) {
      return `${inbound} inbound links are open (maxInboundLinks)`
    }
    if (pending >= MAX_PENDING_INBOUND_LINKS) {
      return `${pending} inbound links are still in their handshake (MAX_PENDING_INBOUND_LINKS)`
    }
    return undefined
  }

  private onLinkClosed (link: LinkImpl): void {
    const state = this.linkStates.get(link.remotePeerId)
    if (state?.link !== link) {
      return
    }
    this.linkStates.delete(link.remotePeerId)
    state.routes.stop()
    link.removeEventListener('pathchange', this.onStatusChange)
    // a direct connection exists for this link only; relayed circuits stay for reuse
    for (const connection of this.node.getConnections(parsePeerId(link.remotePeerId))) {
      if (connection.direct) {
        connection.close().catch((err: unknown) => { this.log('closing a direct connection failed - %e', err) })
      }
    }
    this.onStatusChange()
  }

  /** A link that never completed its handshake and lost its only path is discarded. */
  private onPathLost (link: LinkImpl, remaining: number): void {
    if (remaining === 0 && !link.established && link.direction === 'inbound') {
      link.shutdown(new LifelineError('PROTOCOL_ERROR', `Incoming link from ${link.remotePeerId} failed its handshake`))
    }
  }

  private onRelayChange (status: RelayStatus): void {
    // rooms join through every relay we hold, and drop the ones we lost
    this.rooms.relaysChanged()
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
