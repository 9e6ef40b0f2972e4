/**
 * The routes of one link: relayed circuits through the relays and, for the side that
 * opened the link, the direct WebRTC connection. `connect()` races the relays,
 * staggered (relay-race.ts); afterwards the routes listen for their own inputs (a path
 * lost and the remote's DIRECT_UP from the link, a new direct connection from libp2p)
 * and check every ROUTE_CHECK_INTERVAL_MS, restoring what is missing with backoff
 * (route-policy.ts): the opener keeps a spare route through a second relay and the
 * direct upgrade (direct-upgrade.ts, direct-retry.ts); the other side dials the
 * remote again when the link it accepted has lost every path.
 */
import type { Connection, Libp2pEvents, Logger, PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { TypedEventTarget } from 'main-event'
import {
  DIRECT_RETRY_BASE_MS,
  DIRECT_RETRY_MAX_MS,
  ROUTE_BACKOFF_BASE_MS,
  ROUTE_BACKOFF_MAX_MS,
  ROUTE_CHECK_INTERVAL_MS,
  ROUTE_DIAL_TIMEOUT_MS,
  ROUTE_STAGGER_MS
} from '../../constants.js'
import { LifelineError } from '../../errors.js'
import type { ConnectOptions, LinkDirection } from '../../types.js'
import type { LinkPathEvents } from '../link/link.js'
import { abortError, anySignal, deadline } from '../util/abort.js'
import type { RelayAddress } from '../util/parse.js'
import { DirectRetryPolicy } from './direct-retry.js'
import { DirectUpgrade } from './direct-upgrade.js'
import { connectError, describeRouteFailure, type RouteFailure } from './failure.js'
import { raceRelays } from './relay-race.js'
import { dialRelayed, type RelayedRoute } from './relayed-dial.js'
import { nextRelay, relayedRoutesWanted, relaysCarrying, RouteBackoff, type LinkShape } from './route-policy.js'

/** What the routes use of their link (LinkImpl). */
export interface RoutedLink {
  readonly direction: LinkDirection
  readonly closed: boolean
  readonly established: boolean
  /** True while a path has finished its handshake. */
  readonly usable: boolean
  connections(): Connection[]
  hasPathOn(connection: Connection): boolean
  attach(stream: Stream, connection: Connection): void
  /** Tell the remote a direct connection to it is open on this side. */
  reportDirectUp(): void
}

export interface LinkRoutesComponents {
  /** libp2p's events: a direct connection opening is news for the routes. */
  events: TypedEventTarget<Pick<Libp2pEvents, 'connection:open'>>
  /** Dial a multiaddr; `force` opens a new connection even when the peer has one. */
  dial(ma: Multiaddr, options: { signal: AbortSignal, force?: boolean, onProgress?(event: { type: string }): void }): Promise<Connection>
  /** A connection to a relay over the first of its transports to answer (relay/connect.ts). */
  connectRelay(relay: RelayAddress, options: { signal: AbortSignal }): Promise<unknown>
  getConnections(peer: PeerId): Connection[]
  /** Open a link stream on a connection. */
  newStream(connection: Connection, options: { signal: AbortSignal }): Promise<Stream>
  /**
   * The relays to reach `remote` through: ours, the healthiest first, then relays
   * where `remote` is known to be reserved (its room records, a LOOKUP), so a link
   * is dialled and restored through a relay we do not use ourselves.
   */
  relays(remote: PeerId): RelayAddress[]
  now(): number
  random(): number
  log: Logger
}

export interface LinkRoutesInit {
  link: RoutedLink
  /** Where the link reports its path happenings (LinkInit.pathEvents). */
  pathEvents: TypedEventTarget<LinkPathEvents>
  remote: PeerId
  /** Try the direct upgrade (done by the side that opened the link). */
  direct: boolean
}

export class LinkRoutes {
  private readonly link: RoutedLink
  private readonly pathEvents: TypedEventTarget<LinkPathEvents>
  private readonly remote: PeerId
  private readonly direct: boolean
  private readonly components: LinkRoutesComponents
  private readonly backoff: RouteBackoff
  private readonly directRetry: DirectRetryPolicy
  /** Relays a route is being dialled through. */
  private readonly dialing = new Set<string>()
  /** Direct connections a link stream is being opened on. */
  private readonly attaching = new Set<string>()
  private readonly stopped = new AbortController()
  private running = false
  private timer: ReturnType<typeof setInterval> | undefined
  private upgrade: DirectUpgrade | undefined

  constructor (init: LinkRoutesInit, components: LinkRoutesComponents) {
    this.link = init.link
    this.pathEvents = init.pathEvents
    this.remote = init.remote
    this.direct = init.direct
    this.components = components
    this.backoff = new RouteBackoff(components, { baseMs: ROUTE_BACKOFF_BASE_MS, maxMs: ROUTE_BACKOFF_MAX_MS })
    this.directRetry = new DirectRetryPolicy(components, { baseMs: DIRECT_RETRY_BASE_MS, maxMs: DIRECT_RETRY_MAX_MS })
  }

  /**
   * Race the relays, staggered: resolves when the first route carries the link. Routes
   * still being dialled then finish in the background and become spares.
   *
   * @throws {LifelineError} `PEER_UNREACHABLE`, `RELAY_UNREACHABLE`, `ABORTED`, `TIMEOUT`,
   * `LINK_CLOSED` (the routes were stopped)
   */
  async connect (signal: AbortSignal, options: ConnectOptions = {}): Promise<void> {
    const what = `Connecting to ${this.remote.toString()}`
    const combined = anySignal(signal, this.stopped.signal)
    try {
      const outcome = await raceRelays({
        relays: this.components.relays(this.remote),
        staggerMs: ROUTE_STAGGER_MS,
        signal: combined.signal,
        settled: () => this.link.usable,
        attempt: async relay => {
          options.onProgress?.({ type: 'dial-relayed', relay: relay.text })
          const failure = await this.dialRoute(relay, combined.signal)
          if (failure === undefined) {
            options.onProgress?.({ type: 'relayed', relay: relay.text })
          }
          return failure
        }
      })
      if (outcome.kind === 'aborted') {
        throw abortError(combined.signal, what)
      }
      if (outcome.kind === 'failed') {
        throw connectError(this.remote.toString(), outcome.failures)
      }
    } finally {
      combined.clear()
    }
  }

  /** Begin listening for the link's and libp2p's happenings, and the periodic check. */
  start (): void {
    if (this.running || this.stopped.signal.aborted) {
      return
    }
    this.running = true
    this.pathEvents.addEventListener('path-lost', this.onPathLost)
    this.pathEvents.addEventListener('remote-direct-up', this.onRemoteDirectUp)
    this.components.events.addEventListener('connection:open', this.onConnectionOpen)
    this.timer = setInterval(() => { this.check() }, ROUTE_CHECK_INTERVAL_MS)
    this.check()
  }

  /** Stop for good: listeners removed, dials and the upgrade under way aborted. */
  stop (): void {
    this.running = false
    clearInterval(this.timer)
    this.pathEvents.removeEventListener('path-lost', this.onPathLost)
    this.pathEvents.removeEventListener('remote-direct-up', this.onRemoteDirectUp)
    this.components.events.removeEventListener('connection:open', this.onConnectionOpen)
    this.stopped.abort(new LifelineError('LINK_CLOSED', `Link to ${this.remote.toString()} closed`))
  }

  private readonly onPathLost = (evt: LinkPathEvents['path-lost']): void => {
    if (evt.detail.tier === 'direct') {
      this.directRetry.lost()
    }
    this.check()
  }

  private readonly onRemoteDirectUp = (): void => {
    this.upgrade?.remoteReportsUp()
  }

  private readonly onConnectionOpen = (evt: CustomEvent<Connection>): void => {
    const connection = evt.detail
    if (!connection.direct || !connection.remotePeer.equals(this.remote) || this.link.hasPathOn(connection)) {
      return
    }
    if (this.link.direction === 'outbound') {
      this.check()
    } else {
      // the opener attaches it; telling it unsticks a WebRTC dial that hangs on its side
      this.link.reportDirectUp()
    }
  }

  private shape (): LinkShape {
    return { direction: this.link.direction, established: this.link.established, paths: this.link.connections().length }
  }

  /** Restore what is missing: relayed routes as the policy wants, and the opener's direct path. */
  private check (): void {
    if (!this.running || this.link.closed) {
      return
    }
    this.keepRelayed()
    if (this.link.direction === 'outbound') {
      this.keepDirect()
    }
  }

  private keepRelayed (): void {
    const carrying = relaysCarrying(this.link.connections())
    if (carrying.size + this.dialing.size >= relayedRoutesWanted(this.shape())) {
      return
    }
    const relay = nextRelay(this.components.relays(this.remote), carrying, this.dialing, this.backoff)
    if (relay !== undefined) {
      void this.dialInBackground(relay)
    }
  }

  /**
   * A direct connection that is up but not yet carrying the link (however it came) is
   * used; a second one is never dialled while one exists or a dial is under way.
   */
  private keepDirect (): void {
    const direct = this.components.getConnections(this.remote).filter(c => c.direct && c.status === 'open')
    for (const connection of direct) {
      if (!this.link.hasPathOn(connection)) {
        void this.attachDirect(connection)
      }
    }
    if (this.direct && direct.length === 0 && this.upgrade === undefined && this.directRetry.due() && this.link.usable) {
      void this.upgradeToDirect()
    }
  }

  private async dialInBackground (relay: RelayAddress): Promise<void> {
    const limit = deadline({}, ROUTE_DIAL_TIMEOUT_MS, `A route via ${relay.text}`)
    const combined = anySignal(this.stopped.signal, limit.signal)
    try {
      const failure = await this.dialRoute(relay, combined.signal)
      if (failure !== undefined) {
        this.components.log('route failed - %s', describeRouteFailure(failure))
        // that relay is in backoff now: the next one may do
        this.check()
      }
    } finally {
      combined.clear()
      limit.clear()
    }
  }

  /** Dial a route through `relay` and attach it if the link still wants it; undefined on success. */
  private async dialRoute (relay: RelayAddress, signal: AbortSignal): Promise<RouteFailure | undefined> {
    const id = relay.peerId.toString()
    this.dialing.add(id)
    try {
      const outcome = await dialRelayed(this.components, relay, this.remote, signal)
      if (!outcome.ok) {
        if (outcome.failure.kind !== 'aborted') {
          this.backoff.failed(id)
        }
        return outcome.failure
      }
      this.backoff.succeeded(id)
      this.take(outcome.route)
      return undefined
    } finally {
      this.dialing.delete(id)
    }
  }

  private take ({ connection, stream }: RelayedRoute): void {
    const unwanted = this.link.closed ||
      this.link.hasPathOn(connection) ||
      relaysCarrying(this.link.connections()).size >= relayedRoutesWanted(this.shape())
    if (unwanted) {
      // a race the link no longer needs: more routes would only cost the relay
      stream.abort(new Error('route not needed'))
      return
    }
    this.link.attach(stream, connection)
  }

  /** Open a link stream on a direct connection, once per connection however often asked. */
  private async attachDirect (connection: Connection): Promise<void> {
    if (this.attaching.has(connection.id)) {
      return
    }
    this.attaching.add(connection.id)
    try {
      const stream = await this.components.newStream(connection, { signal: this.stopped.signal })
      if (this.link.hasPathOn(connection)) {
        stream.abort(new Error('path already open'))
        return
      }
      this.link.attach(stream, connection)
    } catch (err) {
      this.components.log('could not open a link stream on %a - %e', connection.remoteAddr, err)
    } finally {
      this.attaching.delete(connection.id)
    }
  }

  private async upgradeToDirect (): Promise<void> {
    const upgrade = new DirectUpgrade({
      dial: async (ma, signal, onProgress) => this.components.dial(ma, { signal, onProgress }),
      relays: this.components.relays(this.remote),
      remotePeerId: this.remote.toString(),
      signal: this.stopped.signal,
      now: () => this.components.now(),
      log: this.components.log
    })
    this.upgrade = upgrade
    try {
      const connection = await upgrade.run()
      if (connection === undefined) {
        this.directRetry.failed()
        return
      }
      this.directRetry.succeeded()
      if (!this.link.closed && !this.link.hasPathOn(connection)) {
        await this.attachDirect(connection)
      }
    } finally {
      this.upgrade = undefined
    }
  }
}
