/**
 * RTT and liveness of one path, fed with the pings it sends and the pongs it gets.
 * Pure: the caller passes the time, so tests drive it with a fake clock.
 */
import {
  MAX_OUTSTANDING_PINGS,
  PING_TIMEOUT_MAX_MS,
  PING_TIMEOUT_MIN_MS,
  PING_TIMEOUT_RTT_FACTOR,
  RTT_SMOOTHING
} from '../../constants.js'

export interface PingTimeouts {
  /** Timeout = clamp(factor x smoothed RTT, minMs, maxMs). */
  factor: number
  minMs: number
  maxMs: number
}

/** Link paths: see the constants for the reasons. */
export const LINK_PING_TIMEOUTS: PingTimeouts = {
  factor: PING_TIMEOUT_RTT_FACTOR,
  minMs: PING_TIMEOUT_MIN_MS,
  maxMs: PING_TIMEOUT_MAX_MS
}

export class PingTracker {
  private readonly timeouts: PingTimeouts
  private readonly outstanding = new Map<number, number>()
  private nonce = 0
  private lastReceivedAt = -Infinity
  /** Smoothed RTT in ms, undefined until the first pong. */
  srtt: number | undefined

  constructor (timeouts: PingTimeouts = LINK_PING_TIMEOUTS) {
    this.timeouts = timeouts
  }

  /**
   * How long a ping may go unanswered: clamp(k x RTT), as iroh's ping tracker does, in
   * whole milliseconds (Node's `AbortSignal.timeout()` throws on a fraction, and the
   * ping then failed at once, counted as a miss).
   */
  get timeoutMs (): number {
    const { factor, minMs, maxMs } = this.timeouts
    return Math.ceil(Math.min(maxMs, Math.max(minMs, (this.srtt ?? 0) * factor)))
  }

  /** Pings sent and not answered yet (at most MAX_OUTSTANDING_PINGS are remembered). */
  get unanswered (): number {
    return this.outstanding.size
  }

  /** Register a ping sent now; returns its nonce. */
  sent (now: number): number {
    this.nonce = (this.nonce + 1) >>> 0
    this.outstanding.set(this.nonce, now)
    if (this.outstanding.size > MAX_OUTSTANDING_PINGS) {
      // forget the oldest: the rest are overdue as well, and say as much
      const [oldest] = this.outstanding.keys()
      this.outstanding.delete(oldest ?? this.nonce)
    }
    return this.nonce
  }

  /** Register a pong; returns the RTT sample, or undefined for an unknown nonce. */
  pong (nonce: number, now: number): number | undefined {
    const sentAt = this.outstanding.get(nonce)
    if (sentAt === undefined) {
      return undefined
    }
    // a pong proves every earlier ping's path alive as well
    for (const [n, at] of this.outstanding) {
      if (at <= sentAt) {
        this.outstanding.delete(n)
      }
    }
    const sample = now - sentAt
    this.srtt = this.srtt === undefined ? sample : this.srtt + RTT_SMOOTHING * (sample - this.srtt)
    return sample
  }

  /** Anything received on the path is a sign of life, even while a pong is queued behind data. */
  received (now: number): void {
    this.lastReceivedAt = now
  }

  /**
   * How long the path has owed an answer: the age of the oldest ping sent since
   * anything last arrived, or undefined when no such ping waits (all is answered, or
   * something came in after the last ping).
   */
  owedFor (now: number): number | undefined {
    let oldest: number | undefined
    for (const at of this.outstanding.values()) {
      if (at >= this.lastReceivedAt && (oldest === undefined || at < oldest)) {
        oldest = at
      }
    }
    return oldest === undefined ? undefined : now - oldest
  }

  /** When anything last arrived on the path (-Infinity before the first). */
  get receivedAt (): number {
    return this.lastReceivedAt
  }

  /** True when a ping has gone unanswered, and nothing else arrived, for longer than the timeout. */
  dead (now: number): boolean {
    for (const at of this.outstanding.values()) {
      if (now - at > this.timeoutMs && now - this.lastReceivedAt > this.timeoutMs) {
        return true
      }
    }
    return false
  }
}
