/**
 * Which relayed routes a link wants and which relay to dial next. Pure, apart from
 * RouteBackoff's injected clock: the routes pass in what the link holds.
 *
 * The side that opened a link keeps it up: one route in use plus SPARE_ROUTES warm
 * spares, each through a different relay. The other side only restores: an
 * established link that lost its last path dials the remote through its own relays
 * (the remote holds reservations too), so a link comes back whichever side still
 * reaches the relays. It keeps no spares, so the two sides never both do.
 */
import type { Connection } from '@libp2p/interface'
import { SPARE_ROUTES } from '../../constants.js'
import type { LinkDirection } from '../../types.js'
import { backoffDelay, type BackoffOptions } from '../util/backoff.js'
import { relayOf, type RelayAddress } from '../util/parse.js'

export interface Clock {
  now(): number
  random(): number
}

/** What the routes need to know about their link to decide. */
export interface LinkShape {
  direction: LinkDirection
  /** A path has completed its handshake once; a link that never did is discarded. */
  established: boolean
  /** Paths the link has now, of either tier. */
  paths: number
}

/** Relayed routes, counted by distinct relay, the link should have. */
export function relayedRoutesWanted (link: LinkShape): number {
  if (link.direction === 'outbound') {
    return 1 + SPARE_ROUTES
  }
  return link.established && link.paths === 0 ? 1 : 0
}

/**
 * The relays that carry a path of the link: two circuits through one relay are one
 * route, since the relay's death takes both.
 */
export function relaysCarrying (connections: readonly Connection[]): Set<string> {
  const relays = new Set<string>()
  for (const connection of connections) {
    const relay = connection.direct ? undefined : relayOf(connection.remoteAddr)
    if (relay !== undefined) {
      relays.add(relay)
    }
  }
  return relays
}

/**
 * The next relay to dial a route through: the first, in the order given (the relay
 * pool's ranking), that carries no path, is not being dialled, and is not in backoff.
 */
export function nextRelay (relays: readonly RelayAddress[], carrying: ReadonlySet<string>, dialing: ReadonlySet<string>, backoff: RouteBackoff): RelayAddress | undefined {
  return relays.find(r => {
    const id = r.peerId.toString()
    return !carrying.has(id) && !dialing.has(id) && backoff.ready(id)
  })
}

/** Per-relay backoff of failed routes: jittered, doubling, reset by a success. */
export class RouteBackoff {
  private readonly clock: Clock
  private readonly options: BackoffOptions
  private readonly entries = new Map<string, { failures: number, retryAt: number }>()

  constructor (clock: Clock, options: BackoffOptions) {
    this.clock = clock
    this.options = options
  }

  failed (relayId: string): void {
    const failures = (this.entries.get(relayId)?.failures ?? 0) + 1
    this.entries.set(relayId, {
      failures,
      retryAt: this.clock.now() + backoffDelay(failures, this.options, () => this.clock.random())
    })
  }

  succeeded (relayId: string): void {
    this.entries.delete(relayId)
  }

  ready (relayId: string): boolean {
    return this.retryAt(relayId) <= this.clock.now()
  }

  /** When a route through the relay may be dialled again (0: now). */
  retryAt (relayId: string): number {
    return this.entries.get(relayId)?.retryAt ?? 0
  }
}
