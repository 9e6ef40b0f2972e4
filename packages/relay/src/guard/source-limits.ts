/**
 * Per-source and global accounting of what the relay hands out: connections, the
 * rate of new connections, handshakes in progress and reservations. Pure state
 * with an injected clock, so every cap is a unit test away; the listener and the
 * HOP server ask it before they grant anything and tell it when things end.
 */
import { sourceOf } from './source.js'

export interface SourceLimitsInit {
  maxConnections: number
  maxConnectionsPerSource: number
  /** New connections a second, over all sources and per source (token buckets). */
  connectionRate: number
  connectionRatePerSource: number
  /** Connections still before their libp2p handshake completed. */
  maxPendingConnections: number
  maxPendingPerSource: number
  maxReservations: number
  maxReservationsPerSource: number
  /** Milliseconds since some fixed point; `performance.now` outside tests. */
  now?: () => number
}

/** Why a new socket was refused; also the name it is counted under. */
export type AdmissionRefusal =
  | 'connections-total'
  | 'connections-per-source'
  | 'rate-total'
  | 'rate-per-source'
  | 'pending-total'
  | 'pending-per-source'

/** Why a reservation was refused. */
export type ReservationRefusal = 'reservations-total' | 'reservations-per-source'

interface SourceState {
  connections: number
  pending: number
  reservations: number
  bucket: TokenBucket
}

/**
 * A bucket holding up to `burst` tokens, refilled at `rate` a second. Bursts matter:
 * after a relay restart every peer behind one carrier-grade NAT reconnects at once.
 */
class TokenBucket {
  private tokens: number
  private updated: number

  constructor (private readonly rate: number, private readonly burst: number, now: number) {
    this.tokens = burst
    this.updated = now
  }

  /** Refills the bucket up to `now`; true if a token is there to take. */
  hasToken (now: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updated) / 1000) * this.rate)
    this.updated = now
    return this.tokens >= 1
  }

  /** Takes a token that `hasToken` just found. */
  take (): void {
    this.tokens -= 1
  }

  /** True when the bucket would be full again, so its source's state can be forgotten. */
  isFull (now: number): boolean {
    return this.tokens + ((now - this.updated) / 1000) * this.rate >= this.burst
  }
}

/**
 * A source gets a burst of one second at the total rate, capped by its connection
 * cap: a whole carrier-grade NAT's users may reconnect at once, no more.
 */
function perSourceBurst (init: SourceLimitsInit): number {
  return Math.max(1, Math.min(init.maxConnectionsPerSource, init.connectionRate))
}

export class SourceLimits {
  private readonly init: SourceLimitsInit
  private readonly now: () => number
  private readonly sources = new Map<string, SourceState>()
  private readonly totalBucket: TokenBucket
  private connections = 0
  private pending = 0
  private reservations = 0

  constructor (init: SourceLimitsInit) {
    this.init = init
    this.now = init.now ?? (() => performance.now())
    this.totalBucket = new TokenBucket(init.connectionRate, Math.max(1, init.connectionRate), this.now())
  }

  /**
   * Admits a new socket from `address` as a connection in its handshake, or says why
   * not. An admitted connection must end with `connectionClosed` exactly once.
   */
  admitConnection (address: string | undefined): AdmissionRefusal | undefined {
    const now = this.now()
    const state = this.stateOf(sourceOf(address), now)
    if (this.connections >= this.init.maxConnections) {
      return 'connections-total'
    }
    if (state.connections >= this.init.maxConnectionsPerSource) {
      return 'connections-per-source'
    }
    if (this.pending >= this.init.maxPendingConnections) {
      return 'pending-total'
    }
    if (state.pending >= this.init.maxPendingPerSource) {
      return 'pending-per-source'
    }
    // the source's own bucket first, so one flooding host is refused for its own
    // rate; a token is spent only when both buckets have one
    if (!state.bucket.hasToken(now)) {
      return 'rate-per-source'
    }
    if (!this.totalBucket.hasToken(now)) {
      return 'rate-total'
    }
    state.bucket.take()
    this.totalBucket.take()
    state.connections++
    state.pending++
    this.connections++
    this.pending++
    return undefined
  }

  /** The connection's libp2p handshake finished (or failed): it is no longer pending. */
  handshakeEnded (address: string | undefined): void {
    const state = this.sources.get(sourceOf(address))
    if (state !== undefined && state.pending > 0) {
      state.pending--
      this.pending--
    }
  }

  connectionClosed (address: string | undefined, stillPending: boolean): void {
    const key = sourceOf(address)
    const state = this.sources.get(key)
    if (state === undefined) {
      return
    }
    if (stillPending && state.pending > 0) {
      state.pending--
      this.pending--
    }
    if (state.connections > 0) {
      state.connections--
      this.connections--
    }
    this.forgetIfIdle(key, state)
  }

  /** Counts a new reservation from `address`, or says why it may not have one. */
  reserve (address: string | undefined): ReservationRefusal | undefined {
    const key = sourceOf(address)
    const state = this.stateOf(key, this.now())
    if (this.reservations >= this.init.maxReservations) {
      return 'reservations-total'
    }
    if (state.reservations >= this.init.maxReservationsPerSource) {
      return 'reservations-per-source'
    }
    state.reservations++
    this.reservations++
    return undefined
  }

  releaseReservation (address: string | undefined): void {
    const key = sourceOf(address)
    const state = this.sources.get(key)
    if (state !== undefined && state.reservations > 0) {
      state.reservations--
      this.reservations--
      this.forgetIfIdle(key, state)
    }
  }

  snapshot (): { connections: number, pending: number, reservations: number, sources: number } {
    return { connections: this.connections, pending: this.pending, reservations: this.reservations, sources: this.sources.size }
  }

  private stateOf (key: string, now: number): SourceState {
    let state = this.sources.get(key)
    if (state === undefined) {
      state = {
        connections: 0,
        pending: 0,
        reservations: 0,
        bucket: new TokenBucket(this.init.connectionRatePerSource, perSourceBurst(this.init), now)
      }
      this.sources.set(key, state)
    }
    return state
  }

  /**
   * Memory per source is bounded by what it holds: a source with nothing open is
   * dropped once its rate bucket is full again, so a scan from many addresses leaves
   * nothing behind. A source dropped early would only get a fresh burst it had earned.
   */
  private forgetIfIdle (key: string, state: SourceState): void {
    if (state.connections === 0 && state.reservations === 0 && state.bucket.isFull(this.now())) {
      this.sources.delete(key)
    }
  }

  /** Drops idle sources whose bucket has refilled since they closed; called now and then. */
  sweep (): void {
    for (const [key, state] of this.sources) {
      this.forgetIfIdle(key, state)
    }
  }
}
