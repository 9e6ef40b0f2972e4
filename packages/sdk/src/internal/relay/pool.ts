/**
 * The relay pool: holds reservations on K of the configured relays at once (the
 * healthiest), pings each held relay and drops it when it stops answering, refreshes
 * reservations well before they expire, and fills a lost slot from the rest of the
 * list. Failed relays come back after a jittered exponential backoff.
 */
import type { AbortOptions, Connection, Logger } from '@libp2p/interface'
import {
  LATE_TIMER_MS,
  RELAY_BACKOFF_BASE_MS,
  RELAY_BACKOFF_MAX_MS,
  RELAY_DIAL_TIMEOUT_MS,
  RELAY_BUSY_MS,
  RELAY_IDLE_PING_INTERVAL_MS,
  RELAY_PING_INTERVAL_MS,
  RELAY_PING_MISSES_TO_DEAD,
  RELAY_PING_SUSPECT_INTERVAL_MS,
  RELAY_PINGS_IN_FLIGHT,
  RELAY_PING_TIMEOUT_MAX_MS,
  RELAY_PING_TIMEOUT_MIN_MS,
  RESERVATION_REFRESH_FRACTION,
  RESERVATION_REFRESH_MIN_MS
} from '../../constants.js'
import type { RelayStatus } from '../../types.js'
import { PingTracker } from '../health/ping-tracker.js'
import { RelayLiveness } from '../health/relay-liveness.js'
import { describeFailure } from '../util/failure.js'
import type { RelayAddress, RelayDialAddress } from '../util/parse.js'
import { backoffDelay } from '../util/backoff.js'
import type { RelayAuthOutcome } from './auth.js'
import type { RelayConnection } from './connect.js'
import { ReservationRefusedError, STATUS_PERMISSION_DENIED, type Reservation } from './hop.js'
import { nextRetryAt, relaysToAcquire, type RelayHealth } from './pool-policy.js'

export interface RelayPoolComponents {
  /** A connection to the relay over the first of its transports to answer (connect.ts). */
  connect(relay: RelayAddress, options: AbortOptions): Promise<RelayConnection>
  reserve(connection: Connection, options: AbortOptions): Promise<Reservation>
  /**
   * Fetch a fresh token and present it on the relay connection (auth.ts); called
   * before every RESERVE. Absent when no `relayToken` is configured.
   */
  authenticate?: ((connection: Connection, relay: { multiaddr: string, peerId: string }, options: AbortOptions) => Promise<RelayAuthOutcome>) | undefined
  ping(connection: Connection, options: AbortOptions): Promise<number>
  /** Close a connection found dead, at once and without a goodbye. */
  abort(connection: Connection, err: Error): void
  now(): number
  random: () => number
  log: Logger
}

type EntryState = 'idle' | 'connecting' | 'reserved' | 'backoff'

interface Entry {
  relay: RelayAddress
  index: number
  state: EntryState
  connection?: Connection | undefined
  /** The address (and so the transport) `connection` was made on. */
  address?: RelayDialAddress | undefined
  reservation?: Reservation | undefined
  /** RTT and ping timeouts; kept across failures, so health ranking remembers the RTT. */
  tracker: PingTracker
  failures: number
  retryAt: number
  lastError?: string | undefined
  refreshTimer?: ReturnType<typeof setTimeout> | undefined
  /** Alive, slow or dead, from the pings of the current connection. */
  liveness: RelayLiveness
  /** When the next ping is due; pings go out on time even while one is unanswered. */
  nextPingAt: number
  /** Pings sent and not yet answered or timed out (at most RELAY_PINGS_IN_FLIGHT). */
  pingsInFlight: number
  /** When anything of a link from this relay last arrived (see heardFrom). */
  heardAt: number
  /** When link data (messages or acks) from this relay last arrived: see RELAY_BUSY_MS. */
  dataAt: number
  abort?: AbortController | undefined
}

const RELAY_PING_TIMEOUTS = { factor: 3, minMs: RELAY_PING_TIMEOUT_MIN_MS, maxMs: RELAY_PING_TIMEOUT_MAX_MS }

export class RelayPool {
  private readonly entries: Entry[]
  private readonly wanted: number
  private readonly components: RelayPoolComponents
  private readonly onChange: (status: RelayStatus) => void
  private running = false
  /** When link data (messages or acks) last arrived on any path of any link. */
  private linkDataAt = -Infinity
  private pingTimer: ReturnType<typeof setInterval> | undefined
  private retryTimer: ReturnType<typeof setTimeout> | undefined

  constructor (relays: RelayAddress[], wanted: number, components: RelayPoolComponents, onChange: (status: RelayStatus) => void) {
    this.entries = relays.map((relay, index) => ({
      relay,
      index,
      state: 'idle',
      tracker: new PingTracker(RELAY_PING_TIMEOUTS),
      failures: 0,
      retryAt: 0,
      liveness: new RelayLiveness({ missesToDead: RELAY_PING_MISSES_TO_DEAD, lateTimerMs: LATE_TIMER_MS }),
      nextPingAt: 0,
      pingsInFlight: 0,
      heardAt: 0,
      dataAt: -Infinity
    }))
    this.wanted = Math.min(wanted, relays.length)
    this.components = components
    this.onChange = onChange
  }

  start (): void {
    this.running = true
    this.pingTimer = setInterval(() => { this.pingAll() }, RELAY_PING_SUSPECT_INTERVAL_MS)
    this.reconcile()
  }

  stop (): void {
    this.running = false
    clearInterval(this.pingTimer)
    clearTimeout(this.retryTimer)
    for (const entry of this.entries) {
      this.release(entry)
      entry.state = 'idle'
    }
  }

  /** The network may be back (a browser's `online` event): retry every relay in backoff now. */
  retryNow (): void {
    for (const entry of this.entries) {
      if (entry.state === 'backoff') {
        entry.retryAt = 0
      }
    }
    this.reconcile()
  }

  /** The network may be gone (a browser's `offline` event): ping every held relay now. */
  checkNow (): void {
    for (const entry of this.entries) {
      entry.nextPingAt = 0
    }
    this.pingAll()
  }

  /**
   * A link frame has just arrived, relayed by `relayPeerId` (undefined: on a direct
   * path). The relay is alive and forwarding, so a ping of it that times out meanwhile
   * waited behind that data; and while link data arrives on any path this page is
   * busy receiving, so no ping that times out meanwhile counts (see RelayLiveness).
   */
  heardFrom (relayPeerId: string | undefined, data: boolean): void {
    if (data) {
      this.linkDataAt = this.components.now()
    }
    if (relayPeerId === undefined) {
      return
    }
    for (const entry of this.entries) {
      if (entry.relay.peerId.toString() === relayPeerId) {
        entry.heardAt = this.components.now()
        if (data) {
          entry.dataAt = entry.heardAt
          this.hurry(entry)
        }
      }
    }
  }

  /** Relays holding our reservation, best first. */
  reserved (): RelayAddress[] {
    return this.held().map(h => h.relay)
  }

  /** Relays holding our reservation and the connection each is held on, best first. */
  held (): Array<{ relay: RelayAddress, connection: Connection }> {
    const held: Array<{ relay: RelayAddress, connection: Connection, entry: Entry }> = []
    for (const entry of this.entries) {
      if (entry.state === 'reserved' && entry.connection !== undefined) {
        held.push({ relay: entry.relay, connection: entry.connection, entry })
      }
    }
    return held
      .sort((a, b) => (a.entry.tracker.srtt ?? Infinity) - (b.entry.tracker.srtt ?? Infinity) || a.entry.index - b.entry.index)
      .map(({ relay, connection }) => ({ relay, connection }))
  }

  /** Every configured relay, those we hold a reservation on first, then by health. */
  ranked (): RelayAddress[] {
    const rank = (e: Entry): number => e.state === 'reserved' ? 0 : e.state === 'connecting' ? 1 : e.state === 'idle' ? 2 : 3
    return [...this.entries]
      .sort((a, b) => rank(a) - rank(b) || (a.tracker.srtt ?? Infinity) - (b.tracker.srtt ?? Infinity) || a.index - b.index)
      .map(e => e.relay)
  }

  status (): RelayStatus[] {
    return this.entries.map(e => this.statusOf(e))
  }

  private statusOf (e: Entry): RelayStatus {
    const status: RelayStatus = {
      multiaddr: e.address?.text ?? e.relay.text,
      multiaddrs: e.relay.addresses.map(a => a.text),
      peerId: e.relay.peerId.toString(),
      state: e.state === 'reserved' ? 'reserved' : e.state === 'connecting' ? 'connecting' : e.state === 'backoff' ? 'down' : 'standby',
      failures: e.failures
    }
    if (e.address !== undefined) {
      status.transport = e.address.transport
    }
    if (e.state === 'reserved' && e.liveness.verdict !== 'alive') {
      status.slow = true
    }
    if (e.tracker.srtt !== undefined) {
      status.rttMs = Math.round(e.tracker.srtt * 10) / 10
    }
    if (e.reservation !== undefined && e.state === 'reserved') {
      status.reservationExpiresAt = e.reservation.expiresAt
    }
    if (e.lastError !== undefined) {
      status.lastError = e.lastError
    }
    if (e.state === 'backoff') {
      status.retryAt = e.retryAt
    }
    return status
  }

  private health (): RelayHealth[] {
    return this.entries.map(e => ({
      index: e.index,
      held: e.state === 'connecting' || e.state === 'reserved',
      failures: e.failures,
      rttMs: e.tracker.srtt,
      retryAt: e.retryAt
    }))
  }

  private reconcile (): void {
    if (!this.running) {
      return
    }
    clearTimeout(this.retryTimer)
    const now = this.components.now()
    for (const pick of relaysToAcquire(this.health(), this.wanted, now)) {
      const entry = this.entries[pick.index]
      if (entry !== undefined) {
        void this.acquire(entry)
      }
    }
    const retryAt = nextRetryAt(this.health(), this.wanted)
    if (retryAt !== undefined) {
      this.retryTimer = setTimeout(() => { this.reconcile() }, Math.max(0, retryAt - now))
    }
  }

  private async acquire (entry: Entry): Promise<void> {
    const abort = new AbortController()
    entry.abort = abort
    this.setState(entry, 'connecting')
    const signal = AbortSignal.any([abort.signal, AbortSignal.timeout(RELAY_DIAL_TIMEOUT_MS)])
    try {
      const { connection, address } = await this.components.connect(entry.relay, { signal })
      entry.connection = connection
      entry.address = address
      connection.addEventListener('close', () => {
        if (entry.connection === connection) {
          this.fail(entry, new Error('connection to the relay closed'))
        }
      }, { once: true })
      entry.reservation = await this.reserveOn(entry, connection, abort.signal)
      if (abort.signal.aborted) {
        return
      }
      entry.failures = 0
      entry.lastError = undefined
      entry.liveness.reset()
      this.scheduleRefresh(entry)
      this.components.log('reserved on relay %s until %s', entry.relay.text, new Date(entry.reservation.expiresAt).toISOString())
      this.setState(entry, 'reserved')
      void this.pingOne(entry)
    } catch (err) {
      if (!abort.signal.aborted) {
        this.fail(entry, err)
      }
    }
  }

  /**
   * RESERVE on `connection`, after presenting a fresh token when `relayToken` is
   * configured. The token and the RESERVE each get their own budget, so a slow
   * token backend does not eat into the reservation's.
   */
  private async reserveOn (entry: Entry, connection: Connection, abort: AbortSignal | undefined): Promise<Reservation> {
    const { authenticate } = this.components
    if (authenticate !== undefined) {
      const relay = { multiaddr: entry.address?.text ?? entry.relay.text, peerId: entry.relay.peerId.toString() }
      const outcome = await authenticate(connection, relay, abort === undefined ? {} : { signal: abort })
      this.components.log('token for relay %s: %s', entry.relay.text, outcome.kind)
    }
    const timeout = AbortSignal.timeout(RELAY_DIAL_TIMEOUT_MS)
    try {
      return await this.components.reserve(connection, { signal: abort === undefined ? timeout : AbortSignal.any([abort, timeout]) })
    } catch (err: unknown) {
      if (authenticate === undefined && err instanceof ReservationRefusedError && err.status === STATUS_PERMISSION_DENIED) {
        throw new Error(`${err.message}: the relay requires a relay token and PeerInit.relayToken is not set`, { cause: err })
      }
      throw err
    }
  }

  private scheduleRefresh (entry: Entry): void {
    clearTimeout(entry.refreshTimer)
    const remaining = (entry.reservation?.expiresAt ?? 0) - this.components.now()
    const delay = Math.max(RESERVATION_REFRESH_MIN_MS, remaining * RESERVATION_REFRESH_FRACTION)
    entry.refreshTimer = setTimeout(() => { void this.refresh(entry) }, Math.min(delay, 2 ** 31 - 1))
  }

  private async refresh (entry: Entry): Promise<void> {
    const connection = entry.connection
    if (entry.state !== 'reserved' || connection === undefined) {
      return
    }
    try {
      entry.reservation = await this.reserveOn(entry, connection, undefined)
      this.components.log('refreshed reservation on %s', entry.relay.text)
      this.scheduleRefresh(entry)
      this.onChange(this.statusOf(entry))
    } catch (err) {
      this.fail(entry, err)
    }
  }

  private pingAll (): void {
    const now = this.components.now()
    for (const entry of this.entries) {
      if (entry.state === 'reserved' && now >= entry.nextPingAt && entry.pingsInFlight < RELAY_PINGS_IN_FLIGHT) {
        void this.pingOne(entry)
      }
    }
  }

  /** The relay carries data again: its next ping is due at the busy pace, not the idle one. */
  private hurry (entry: Entry): void {
    entry.nextPingAt = Math.min(entry.nextPingAt, this.components.now() + RELAY_PING_INTERVAL_MS)
  }

  private async pingOne (entry: Entry): Promise<void> {
    const connection = entry.connection
    if (connection === undefined) {
      return
    }
    const timeout = entry.tracker.timeoutMs
    const sentAt = this.components.now()
    entry.nextPingAt = sentAt + (entry.liveness.verdict !== 'alive'
      ? RELAY_PING_SUSPECT_INTERVAL_MS
      : sentAt - entry.dataAt < RELAY_BUSY_MS ? RELAY_PING_INTERVAL_MS : RELAY_IDLE_PING_INTERVAL_MS)
    const nonce = entry.tracker.sent(sentAt)
    entry.pingsInFlight++
    try {
      await this.components.ping(connection, { signal: AbortSignal.timeout(timeout) })
      if (entry.connection !== connection) {
        return
      }
      entry.tracker.pong(nonce, this.components.now())
      entry.liveness.answered()
      this.onChange(this.statusOf(entry))
    } catch (err) {
      if (entry.connection !== connection) {
        return
      }
      const lateBy = this.components.now() - sentAt - timeout
      const verdict = entry.liveness.missed(lateBy, entry.heardAt > sentAt || this.linkDataAt > sentAt)
      if (verdict === 'dead') {
        const dead = new Error(`relay did not answer ${RELAY_PING_MISSES_TO_DEAD} pings in a row (${Math.round(timeout)} ms each)`, { cause: err })
        this.fail(entry, dead)
        // no pong and no forwarded data for three pings: the circuits on it are dead too,
        // and a dial of the relay must not be handed this connection again
        this.components.abort(connection, dead)
      } else {
        this.components.log('relay %s missed a ping (%s) - %e', entry.relay.text, verdict, err)
        entry.nextPingAt = Math.min(entry.nextPingAt, this.components.now() + RELAY_PING_SUSPECT_INTERVAL_MS)
        this.onChange(this.statusOf(entry))
      }
    } finally {
      if (entry.connection === connection) {
        entry.pingsInFlight--
      }
    }
  }

  private fail (entry: Entry, err: unknown): void {
    const message = describeFailure(err)
    entry.failures++
    entry.lastError = message
    entry.retryAt = this.components.now() + backoffDelay(entry.failures, { baseMs: RELAY_BACKOFF_BASE_MS, maxMs: RELAY_BACKOFF_MAX_MS }, this.components.random)
    this.components.log('relay %s failed (%s); retry in %d ms', entry.relay.text, message, Math.round(entry.retryAt - this.components.now()))
    this.release(entry)
    this.setState(entry, 'backoff')
    this.reconcile()
  }

  /**
   * Forget the entry's connection, reservation and timers. The connection is left
   * open: circuits of links may still run over it. Only a relay found dead by its
   * pings has its connection closed (pingOne).
   */
  private release (entry: Entry): void {
    entry.abort?.abort()
    entry.abort = undefined
    clearTimeout(entry.refreshTimer)
    entry.connection = undefined
    entry.address = undefined
    entry.reservation = undefined
    // pings on the old connection no longer count, nor hold back new ones
    entry.pingsInFlight = 0
  }

  private setState (entry: Entry, state: EntryState): void {
    entry.state = state
    this.onChange(this.statusOf(entry))
  }
}
