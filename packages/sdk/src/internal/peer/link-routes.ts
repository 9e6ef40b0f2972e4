/**
 * The routes of an outbound link: relayed circuits through the relays (one in use,
 * SPARE_ROUTES warm spares, each through a different relay) and the direct WebRTC
 * connection. connect() races the relays, staggered; afterwards a periodic check
 * restores what was lost, with backoff: a dead relay's route is replaced, a link
 * with no path at all is dialled again, and a failed direct upgrade is retried.
 */
import type { Connection, Logger, PeerId, Stream } from '@libp2p/interface'
import {
  DIRECT_RETRY_BASE_MS,
  DIRECT_RETRY_MAX_MS,
  RELAY_DIAL_TIMEOUT_MS,
  ROUTE_BACKOFF_BASE_MS,
  ROUTE_BACKOFF_MAX_MS,
  ROUTE_CHECK_INTERVAL_MS,
  ROUTE_STAGGER_MS,
  SPARE_ROUTES
} from '../../constants.js'
import { LifelineError } from '../../errors.js'
import type { ConnectOptions } from '../../types.js'
import { DirectUpgrade } from '../dial/direct-upgrade.js'
import type { LinkImpl } from '../link/link.js'
import { backoffDelay } from '../util/backoff.js'
import { abortError } from '../util/abort.js'
import { describeFailure } from '../util/failure.js'
import { relayOf, type RelayAddress } from '../util/parse.js'

export interface LinkRoutesComponents {
  /** Open a new circuit to the remote through `relay` and a link stream on it. */
  dialRelayed(relay: RelayAddress, remote: PeerId, signal: AbortSignal): Promise<{ connection: Connection, stream: Stream }>
  /** Open a direct connection (WebRTC through a relay's signalling). */
  dialDirect: ConstructorParameters<typeof DirectUpgrade>[0]['dial']
  /** Open direct connections to the remote, attached to the link or not. */
  directConnections(): Connection[]
  /** Open a link stream on a direct connection and attach it to the link. */
  attachDirect(connection: Connection): void
  /** Configured relays, the healthiest first. */
  relays(): RelayAddress[]
  direct: boolean
  log: Logger
}

interface RouteBackoff {
  failures: number
  retryAt: number
}

export class LinkRoutes {
  private readonly link: LinkImpl
  private readonly remote: PeerId
  private readonly components: LinkRoutesComponents
  private readonly backoff = new Map<string, RouteBackoff>()
  private readonly dialing = new Set<string>()
  private readonly stopped = new AbortController()
  private timer: ReturnType<typeof setInterval> | undefined
  private upgrade: DirectUpgrade | undefined
  private directFailures = 0
  private directRetryAt = 0

  constructor (link: LinkImpl, remote: PeerId, components: LinkRoutesComponents) {
    this.link = link
    this.remote = remote
    this.components = components
  }

  /**
   * Race the relays, staggered: resolves when the first route carries the link. Routes
   * still being dialled then finish in the background and become spares.
   */
  async connect (signal: AbortSignal, options: ConnectOptions): Promise<void> {
    if (signal.aborted) {
      throw abortError(signal, `Connecting to ${this.remote.toString()}`)
    }
    const relays = this.components.relays()
    const failures: string[] = []
    let peerRefused = 0
    let running = 0
    const { promise, resolve, reject } = Promise.withResolvers<undefined>()
    const onAbort = (): void => { reject(abortError(signal, `Connecting to ${this.remote.toString()}`)) }
    signal.addEventListener('abort', onAbort, { once: true })
    let next = 0
    let staggerTimer: ReturnType<typeof setTimeout> | undefined
    const launch = (): void => {
      clearTimeout(staggerTimer)
      const relay = relays[next++]
      if (relay === undefined || this.link.usable || signal.aborted) {
        return
      }
      running++
      options.onProgress?.({ type: 'dial-relayed', relay: relay.text })
      this.dialRoute(relay, signal).then(() => {
        options.onProgress?.({ type: 'relayed', relay: relay.text })
        resolve(undefined)
      }, (err: unknown) => {
        const message = describeFailure(err)
        // the relay answered: it is up, the peer is what cannot be reached
        // (NO_RESERVATION, CONNECTION_FAILED, or a refused STOP while it goes away)
        if (/via relay with status/i.test(message)) {
          peerRefused++
        }
        failures.push(`${relay.text}: ${message}`)
        if (--running === 0 && next >= relays.length) {
          reject(peerRefused > 0
            ? new LifelineError('PEER_UNREACHABLE', `Peer ${this.remote.toString()} is not reachable through any relay (unknown, offline, or holding no reservation). Tried: ${failures.join('; ')}`)
            : new LifelineError('RELAY_UNREACHABLE', `No relay carried a circuit to ${this.remote.toString()}: ${failures.join('; ')}`))
        } else {
          launch()
        }
      })
      if (next < relays.length) {
        staggerTimer = setTimeout(launch, ROUTE_STAGGER_MS)
      }
    }
    launch()
    try {
      await promise
    } finally {
      clearTimeout(staggerTimer)
      signal.removeEventListener('abort', onAbort)
    }
  }

  /** Begin the periodic route check and the direct upgrade. */
  start (): void {
    this.timer = setInterval(() => { this.check() }, ROUTE_CHECK_INTERVAL_MS)
    this.check()
  }

  stop (): void {
    clearInterval(this.timer)
    this.stopped.abort()
  }

  /** The remote reports a direct connection up: a pending dial may be stuck. */
  remoteReportsDirectUp (): void {
    this.upgrade?.remoteReportsUp()
  }

  /** The direct path died: try again after a short backoff (the network may have changed). */
  directLost (): void {
    this.directFailures = 0
    this.directRetryAt = Date.now() + backoffDelay(1, { baseMs: DIRECT_RETRY_BASE_MS, maxMs: DIRECT_RETRY_MAX_MS })
  }

  /** Restore missing routes: relayed ones up to 1 + SPARE_ROUTES, and the direct one. */
  check (): void {
    if (this.link.closed || this.stopped.signal.aborted) {
      return
    }
    const now = Date.now()
    const used = new Set<string>()
    let relayed = 0
    for (const connection of this.link.connections()) {
      if (connection.direct) {
        continue
      }
      relayed++
      const relay = relayOf(connection.remoteAddr)
      if (relay !== undefined) {
        used.add(relay)
      }
    }
    if (relayed + this.dialing.size < 1 + SPARE_ROUTES) {
      const relay = this.components.relays().find(r => {
        const id = r.peerId.toString()
        return !used.has(id) && !this.dialing.has(id) && (this.backoff.get(id)?.retryAt ?? 0) <= now
      })
      if (relay !== undefined) {
        const signal = AbortSignal.any([this.stopped.signal, AbortSignal.timeout(RELAY_DIAL_TIMEOUT_MS)])
        this.dialRoute(relay, signal).catch((err: unknown) => {
          this.components.log('route via %s failed - %e', relay.text, err)
        })
      }
    }
    // a direct connection that is up but not yet carrying the link (however it came) is
    // used; a second one is never dialled while one exists or a dial is under way
    const direct = this.components.directConnections()
    for (const connection of direct) {
      if (!this.link.hasPathOn(connection)) {
        this.components.attachDirect(connection)
      }
    }
    if (this.components.direct && direct.length === 0 && this.upgrade === undefined && now >= this.directRetryAt && this.link.usable) {
      void this.upgradeToDirect()
    }
  }

  private async dialRoute (relay: RelayAddress, signal: AbortSignal): Promise<void> {
    const id = relay.peerId.toString()
    this.dialing.add(id)
    try {
      const { connection, stream } = await this.components.dialRelayed(relay, this.remote, signal)
      const relayedPaths = this.link.connections().filter(c => !c.direct).length
      if (this.link.closed || relayedPaths >= 1 + SPARE_ROUTES) {
        // a race the link no longer needs: more spares would only cost the relay
        stream.abort(new Error('route not needed'))
        return
      }
      this.link.attach(stream, connection)
      this.backoff.delete(id)
    } catch (err) {
      const failures = (this.backoff.get(id)?.failures ?? 0) + 1
      this.backoff.set(id, {
        failures,
        retryAt: Date.now() + backoffDelay(failures, { baseMs: ROUTE_BACKOFF_BASE_MS, maxMs: ROUTE_BACKOFF_MAX_MS })
      })
      throw err
    } finally {
      this.dialing.delete(id)
    }
  }

  private async upgradeToDirect (): Promise<void> {
    const upgrade = new DirectUpgrade({
      dial: this.components.dialDirect,
      relays: this.components.relays(),
      remotePeerId: this.remote.toString(),
      signal: this.stopped.signal,
      log: this.components.log
    })
    this.upgrade = upgrade
    try {
      const connection = await upgrade.run()
      if (connection === undefined) {
        this.directFailures++
        this.directRetryAt = Date.now() + backoffDelay(this.directFailures, { baseMs: DIRECT_RETRY_BASE_MS, maxMs: DIRECT_RETRY_MAX_MS })
        return
      }
      this.directFailures = 0
      if (!this.link.closed && !this.link.hasPathOn(connection)) {
        this.components.attachDirect(connection)
      }
    } finally {
      this.upgrade = undefined
    }
  }
}
