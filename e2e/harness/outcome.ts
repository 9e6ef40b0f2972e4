/** Results that cross `page.evaluate` as plain JSON, errors with their SDK code. */
import { isLifelineError } from '@lifeline/sdk'
import type { Outcome } from './api.js'

export function errorOutcome (err: unknown, started: number): Outcome<never> {
  return {
    ok: false,
    ms: performance.now() - started,
    code: isLifelineError(err) ? err.code : undefined,
    message: err instanceof Error ? `${err.name}: ${err.message}` : String(err)
  }
}

export async function attempt (fn: () => Promise<unknown>): Promise<Outcome> {
  const started = performance.now()
  try {
    await fn()
    return { ok: true, ms: performance.now() - started }
  } catch (err) {
    return errorOutcome(err, started)
  }
}
