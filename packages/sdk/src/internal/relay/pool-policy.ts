/**
 * Which relays the pool should try next. Pure: the pool passes each relay's health and
 * the time. Healthy relays first (fewest recent failures, then lowest RTT), then the
 * configured order; relays in backoff wait for their retry time.
 */
export interface RelayHealth {
  /** Position in the configured list: the tie-breaker, so the app's order counts. */
  index: number
  /** True while the pool holds or is acquiring a reservation on it. */
  held: boolean
  /** Failures since the last success. */
  failures: number
  rttMs: number | undefined
  /** Not before this time (ms), after a failure. */
  retryAt: number
}

export function compareHealth (a: RelayHealth, b: RelayHealth): number {
  return a.failures - b.failures ||
    (a.rttMs ?? Infinity) - (b.rttMs ?? Infinity) ||
    a.index - b.index
}

/** The relays to start acquiring now so that `wanted` are held. */
export function relaysToAcquire (relays: readonly RelayHealth[], wanted: number, now: number): RelayHealth[] {
  const missing = wanted - relays.filter(r => r.held).length
  if (missing <= 0) {
    return []
  }
  return relays
    .filter(r => !r.held && r.retryAt <= now)
    .sort(compareHealth)
    .slice(0, missing)
}

/** When the next relay in backoff becomes eligible, if the pool is short of relays. */
export function nextRetryAt (relays: readonly RelayHealth[], wanted: number): number | undefined {
  if (relays.filter(r => r.held).length >= wanted) {
    return undefined
  }
  const waiting = relays.filter(r => !r.held).map(r => r.retryAt)
  return waiting.length === 0 ? undefined : Math.min(...waiting)
}
