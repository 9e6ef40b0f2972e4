/**
 * A token bucket: `perSecond` tokens a second, at most `burst` saved up. Pure: the
 * caller passes the time, so tests drive it with a fake clock.
 */
export class RateLimit {
  private readonly perSecond: number
  private readonly burst: number
  private tokens: number
  private updatedAt: number

  constructor (perSecond: number, burst: number, now: number) {
    this.perSecond = perSecond
    this.burst = burst
    this.tokens = burst
    this.updatedAt = now
  }

  /** Take a token; false when none is left. */
  take (now: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + (now - this.updatedAt) * this.perSecond / 1000)
    this.updatedAt = now
    if (this.tokens < 1) {
      return false
    }
    this.tokens--
    return true
  }
}
