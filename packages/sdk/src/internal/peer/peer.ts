/**
 * The Peer behind `createPeer()`: owns the libp2p node, the relay reservations and
 * one Link per remote peer. Links start on a relayed circuit and are upgraded to a
 * direct WebRTC connection in the background.
 */
import { privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { Connection, Logger, PeerId, PrivateKey, Stream } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { multiaddr } from '@multiformats/multiaddr'
import { TypedEventEmitter } from 'main-event'
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_ONLINE_TIMEOUT_MS, LINK_PROTOCOL } from '../../constants.js'
import { isLifelineError, LifelineError } from '../../errors.js'
import type { AbortOptions, ConnectOptions, Link, Peer, PeerEvents, PeerStatus } from '../../types.js'
import { DirectUpgrade } from '../dial/direct-upgrade.js'
import { LinkImpl } from '../link/link.js'
import { abortError, deadline, waitFor } from '../util/abort.js'
import { parsePeerId, type RelayAddress } from '../util/parse.js'
import { createNode, type Libp2pNode } from './libp2p-node.js'
import { RelayMonitor } from './relay-monitor.js'

export interface PeerConfig {
  privateKey: PrivateKey
  relays: RelayAddress[]
  iceServers: RTCIceServer[]
  direct: boolean
  allowPrivateAddresses: boolean
  maxMessageBytes: number
  sendBufferBytes: number
}

interface LinkState {
  link: LinkImpl
  upgrade?: DirectUpgrade | undefined
  upgrading?: AbortController | undefined
}

export class PeerImpl extends TypedEventEmitter<PeerEvents> implements Peer {
  readonly peerId: string
  private readonly config: PeerConfig
  private readonly node: Libp2pNode
  private readonly relayMonitor: RelayMonitor
  private readonly linkStates = new Map<string, LinkState>()
  private readonly log: Logger
  private readonly changed = new EventTarget()
  private started = false
  private wasOnline = false

  static async create (config: PeerConfig): Promise<PeerImpl> {
    return new PeerImpl(config, await createNode(config))
  }

  private constructor (config: PeerConfig, node: Libp2pNode) {
    super()
    this.config = config
    this.node = node
    this.peerId = node.peerId.toString()
    this.log = logger(`lifeline:peer:${this.peerId.slice(-6)}`)
    this.relayMonitor = new RelayMonitor(node, config.relays, () => { this.onStatusChange() }, this.log)
  }

  async start (): Promise<void> {
    if (this.started) {
      return
    }
    await this.node.handle(LINK_PROTOCOL, (stream, connection) => { this.onLinkStream(stream, connection) }, {
      runOnLimitedConnection: true
    })
    this.node.addEventListener('self:peer:update', this.onStatusChange)
    this.node.addEventListener('connection:open', this.onConnectionOpen)
    this.node.addEventListener('connection:close', this.onStatusChange)
    try {
      await this.node.start()
    } catch (err) {
      this.detach()
      throw new LifelineError('RELAY_UNREACHABLE', 'The peer could not start listening on its relays', { cause: err })
    }
    this.started = true
    this.relayMonitor.start()
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
    this.relayMonitor.stop()
    this.detach()
    await this.node.stop()
    this.onStatusChange()
  }

  async online (options: AbortOptions = {}): Promise<void> {
    const limit = deadline(options, DEFAULT_ONLINE_TIMEOUT_MS, 'Waiting for a relay reservation')
    try {
      await waitFor(this.changed, 'change', () => {
        if (!this.started) {
          throw new LifelineError('NOT_STARTED', 'Call start() before online()')
        }
        return this.relayMonitor.reservedRelays().size > 0
      }, { signal: limit.signal })
    } catch (err) {
      if (isLifelineError(err, 'TIMEOUT')) {
        throw new LifelineError('RELAY_UNREACHABLE', `No relay granted a reservation: ${this.describeRelays()}`, { cause: err })
      }
      throw err
    } finally {
      limit.clear()
    }
  }

  status (): PeerStatus {
    const relays = this.relayMonitor.status()
    return {
      peerId: this.peerId,
      started: this.started,
      online: this.started && relays.some(r => r.state === 'reserved'),
      relays,
      links: [...this.linkStates.values()].map(({ link }) => link.status()),
      addresses: this.started ? this.node.getMultiaddrs().map(ma => ma.toString()) : []
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
    const limit = deadline(options, DEFAULT_CONNECT_TIMEOUT_MS, `Connecting to ${peerId}`)
    try {
      await this.openRelayedPath(state.link, remote, limit.signal, options)
      await state.link.ready({ signal: limit.signal })
      options.onProgress?.({ type: 'link-open' })
    } catch (err) {
      state.link.shutdown(undefined)
      throw isLifelineError(err) ? err : abortError(limit.signal, `Connecting to ${peerId}`)
    } finally {
      limit.clear()
    }
    this.startDirectUpgrade(state)
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

  /** Dial the remote through each relay in turn until one circuit carries a link stream. */
  private async openRelayedPath (link: LinkImpl, remote: PeerId, signal: AbortSignal, options: ConnectOptions): Promise<void> {
    const failures: string[] = []
    let noReservation = 0
    for (const relay of this.config.relays) {
      signal.throwIfAborted()
      options.onProgress?.({ type: 'dial-relayed', relay: relay.text })
      try {
        const connection = await this.node.dial(multiaddr(`${relay.text}/p2p-circuit/p2p/${remote.toString()}`), { signal })
        const stream = await connection.newStream(LINK_PROTOCOL, { signal, runOnLimitedConnection: true })
        link.attach(stream, connection)
        options.onProgress?.({ type: 'relayed', relay: relay.text })
        return
      } catch (err) {
        if (signal.aborted) {
          throw abortError(signal, `Connecting to ${remote.toString()}`)
        }
        const message = err instanceof Error ? err.message : String(err)
        if (/NO_RESERVATION/i.test(message)) {
          noReservation++
        }
        failures.push(`${relay.text}: ${message}`)
        this.log('relayed dial via %s failed - %e', relay.text, err)
      }
    }
    if (noReservation > 0) {
      throw new LifelineError('PEER_UNREACHABLE', `Peer ${remote.toString()} holds no reservation on any relay (unknown or offline). Tried: ${failures.join('; ')}`)
    }
    throw new LifelineError('RELAY_UNREACHABLE', `No relay carried a circuit to ${remote.toString()}: ${failures.join('; ')}`)
  }

  private startDirectUpgrade (state: LinkState): void {
    if (!this.config.direct || state.link.closed || state.upgrading !== undefined) {
      return
    }
    const controller = new AbortController()
    const upgrade = new DirectUpgrade({
      dial: async (ma, signal) => this.node.dial(ma, { signal }),
      relays: this.config.relays,
      remotePeerId: state.link.remotePeerId,
      signal: controller.signal,
      log: this.log
    })
    state.upgrading = controller
    state.upgrade = upgrade
    // the new direct connection reaches the link through onConnectionOpen
    void upgrade.run().finally(() => {
      state.upgrading = undefined
      state.upgrade = undefined
    })
  }

  private async attachLinkStream (link: LinkImpl, connection: Connection): Promise<void> {
    try {
      const stream = await connection.newStream(LINK_PROTOCOL, { runOnLimitedConnection: true })
      link.attach(stream, connection)
    } catch (err) {
      this.log('could not open a link stream on %a - %e', connection.remoteAddr, err)
    }
  }

  private addLink (remotePeerId: string, direction: 'outbound' | 'inbound'): LinkState {
    const link: LinkImpl = new LinkImpl({
      remotePeerId,
      direction,
      maxMessageBytes: this.config.maxMessageBytes,
      sendBufferBytes: this.config.sendBufferBytes,
      log: logger(`lifeline:link:${remotePeerId.slice(-6)}`),
      newStream: async (connection, protocol, options) => this.newStream(connection, protocol, options),
      onClose: closed => { this.onLinkClosed(closed) },
      onRemoteDirectUp: () => { this.linkStates.get(remotePeerId)?.upgrade?.remoteReportsUp() },
      onNoPath: () => { this.onLinkLostPaths(remotePeerId) }
    })
    link.addEventListener('pathchange', this.onStatusChange)
    const state: LinkState = { link }
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
    state.upgrading?.abort()
    link.removeEventListener('pathchange', this.onStatusChange)
    // a direct connection exists for this link only; relayed circuits may serve others later
    for (const connection of this.node.getConnections(parsePeerId(link.remotePeerId))) {
      if (connection.direct) {
        connection.close().catch((err: unknown) => { this.log('closing direct connection failed - %e', err) })
      }
    }
    this.onStatusChange()
  }

  /** An outbound link whose every path died dials the relays again; an inbound one waits for the remote. */
  private onLinkLostPaths (remotePeerId: string): void {
    const state = this.linkStates.get(remotePeerId)
    if (state !== undefined && !state.link.established && state.link.direction === 'inbound') {
      state.link.shutdown(new LifelineError('PROTOCOL_ERROR', `Incoming link from ${remotePeerId} failed its handshake`))
      return
    }
    if (state === undefined || state.link.direction !== 'outbound' || !this.started) {
      return
    }
    this.log('link to %s lost every path; dialing through the relays again', remotePeerId)
    const remote = parsePeerId(remotePeerId)
    void this.openRelayedPath(state.link, remote, AbortSignal.timeout(DEFAULT_CONNECT_TIMEOUT_MS), {})
      .then(() => { this.startDirectUpgrade(state) })
      .catch((err: unknown) => { this.log('reconnecting to %s failed - %e', remotePeerId, err) })
  }

  private readonly onConnectionOpen = (evt: CustomEvent<Connection>): void => {
    const connection = evt.detail
    const state = this.linkStates.get(connection.remotePeer.toString())
    if (state !== undefined && connection.direct && !state.link.hasPathOn(connection)) {
      if (state.link.direction === 'outbound') {
        void this.attachLinkStream(state.link, connection)
      } else {
        state.link.reportDirectUp()
      }
    }
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

  private detach (): void {
    this.node.removeEventListener('self:peer:update', this.onStatusChange)
    this.node.removeEventListener('connection:open', this.onConnectionOpen)
    this.node.removeEventListener('connection:close', this.onStatusChange)
  }

  private describeRelays (): string {
    return this.relayMonitor.status().map(r => `${r.multiaddr} (${r.state}${r.lastError === undefined ? '' : `: ${r.lastError}`})`).join(', ')
  }
}
