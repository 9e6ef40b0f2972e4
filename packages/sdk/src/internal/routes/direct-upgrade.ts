/**
 * Upgrade a link to a direct WebRTC connection, signalled through a relay. Each
 * attempt has its own deadline, and an attempt the remote has already seen succeed
 * is abandoned after a short grace (see DIRECT_DIAL_STUCK_GRACE_MS) instead of
 * waiting out the upstream hang. When to run it again is DirectRetryPolicy's call.
 */
import type { Connection, Logger } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import {
  DIRECT_DIAL_ATTEMPT_TIMEOUT_MS,
  DIRECT_DIAL_ATTEMPTS,
  DIRECT_DIAL_STUCK_GRACE_MS
} from '../../constants.js'
import { anySignal, deadline } from '../util/abort.js'
import type { RelayAddress } from '../util/parse.js'

/** The @libp2p/webrtc dial step after which the SDP answer is in and ICE runs. */
export const ANSWERED_PROGRESS = 'webrtc:read-ice-candidates'

export interface DirectUpgradeInit {
  /** Dial `ma`, reporting libp2p's progress events (their `type`) to `onProgress`. */
  dial(ma: Multiaddr, signal: AbortSignal, onProgress: (event: { type: string }) => void): Promise<Connection>
  relays: RelayAddress[]
  remotePeerId: string
  signal: AbortSignal
  /** The clock, for the logged duration of each attempt. */
  now(): number
  log: Logger
}

export class DirectUpgrade {
  private readonly init: DirectUpgradeInit
  private attempt: AbortController | undefined
  /** The current attempt has its SDP answer; a DIRECT_UP before that belongs to an older one. */
  private answered = false
  private stuckTimer: ReturnType<typeof setTimeout> | undefined

  constructor (init: DirectUpgradeInit) {
    this.init = init
  }

  /** WebRTC addresses of the remote peer: one through each relay it may be reserved on. */
  addresses (): Multiaddr[] {
    return this.init.relays.map(r => multiaddr(`${r.text}/p2p-circuit/webrtc/p2p/${this.init.remotePeerId}`))
  }

  /**
   * The remote reports our direct connection open: an attempt still pending is stuck.
   * Only a report that comes after the current attempt got its SDP answer counts: the
   * remote also reports a connection that never worked once the dialer gave up on it
   * (upstream upgrades it when the signalling stream ends), and that report reaches
   * us during the next attempt's offer.
   */
  remoteReportsUp (): void {
    const attempt = this.attempt
    if (attempt === undefined || !this.answered || this.stuckTimer !== undefined) {
      return
    }
    this.stuckTimer = setTimeout(() => {
      this.init.log('direct dial still pending %d ms after the remote saw it open; retrying', DIRECT_DIAL_STUCK_GRACE_MS)
      attempt.abort(new Error('WebRTC dial stuck after the remote connected'))
    }, DIRECT_DIAL_STUCK_GRACE_MS)
  }

  /** Try to open a direct connection; resolves with it, or undefined when every attempt failed. */
  async run (): Promise<Connection | undefined> {
    const addresses = this.addresses()
    for (let i = 0; i < DIRECT_DIAL_ATTEMPTS; i++) {
      for (const ma of addresses) {
        if (this.init.signal.aborted) {
          return undefined
        }
        const connection = await this.tryOnce(ma)
        if (connection !== undefined) {
          return connection
        }
      }
    }
    return undefined
  }

  private async tryOnce (ma: Multiaddr): Promise<Connection | undefined> {
    const attempt = new AbortController()
    this.attempt = attempt
    this.answered = false
    const limit = deadline({}, DIRECT_DIAL_ATTEMPT_TIMEOUT_MS, 'A direct dial attempt')
    const combined = anySignal(this.init.signal, attempt.signal, limit.signal)
    const started = this.init.now()
    try {
      const connection = await this.init.dial(ma, combined.signal, event => {
        if (event.type === ANSWERED_PROGRESS && this.attempt === attempt) {
          this.answered = true
        }
      })
      this.init.log('direct connection via %a after %d ms', ma, Math.round(this.init.now() - started))
      return connection
    } catch (err) {
      this.init.log('direct dial via %a failed after %d ms - %e', ma, Math.round(this.init.now() - started), err)
      return undefined
    } finally {
      combined.clear()
      limit.clear()
      clearTimeout(this.stuckTimer)
      this.stuckTimer = undefined
      this.attempt = undefined
    }
  }
}
