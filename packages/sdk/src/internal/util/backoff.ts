/**
 * Jittered exponential backoff ("full jitter", as AWS's architecture blog and
 * iroh's relay client use): the n-th retry waits a random time in
 * [base * 2^(n-1) / 2, base * 2^(n-1)], capped. Half the delay is kept fixed so a
 * retry never comes at once, the other half is random so many peers that lost the
 * same relay do not return to it in step. Pure: the caller passes `random`.
 */
export interface BackoffOptions {
  baseMs: number
  maxMs: number
}

export function backoffDelay (failures: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exponent = Math.max(0, Math.min(failures - 1, 30))
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** exponent)
  return ceiling / 2 + random() * ceiling / 2
}
