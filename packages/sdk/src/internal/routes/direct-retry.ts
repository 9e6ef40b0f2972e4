/**
 * When the direct upgrade may run again. An upgrade whose every attempt failed backs
 * off, doubling from DIRECT_RETRY_BASE_MS to DIRECT_RETRY_MAX_MS; a direct path that
 * worked and then died is tried again after the first step only (the network may
 * have changed, and an attempt costs little). Pure apart from the injected clock.
 */
import { backoffDelay, type BackoffOptions } from '../util/backoff.js'
import type { Clock } from './route-policy.js'

export class DirectRetryPolicy {
  private readonly clock: Clock
  private readonly options: BackoffOptions
  private failures = 0
  private retryAt = 0

  constructor (clock: Clock, options: BackoffOptions) {
    this.clock = clock
    this.options = options
  }

  /** True when an upgrade may start now. */
  due (): boolean {
    return this.clock.now() >= this.retryAt
  }

  /** Every attempt of an upgrade failed. */
  failed (): void {
    this.failures++
    this.retryAt = this.clock.now() + backoffDelay(this.failures, this.options, () => this.clock.random())
  }

  /** An upgrade opened a direct connection. */
  succeeded (): void {
    this.failures = 0
  }

  /** The direct path died: try again soon, as after a first failure. */
  lost (): void {
    this.failures = 0
    this.retryAt = this.clock.now() + backoffDelay(1, this.options, () => this.clock.random())
  }
}
