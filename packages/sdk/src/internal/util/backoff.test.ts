import { describe, expect, it } from 'vitest'
import { backoffDelay } from './backoff.js'

const options = { baseMs: 1000, maxMs: 30_000 }

describe('backoffDelay', () => {
  it('doubles with each failure, between half and all of the ceiling', () => {
    expect(backoffDelay(1, options, () => 0)).toBe(500)
    expect(backoffDelay(1, options, () => 1)).toBe(1000)
    expect(backoffDelay(2, options, () => 0)).toBe(1000)
    expect(backoffDelay(3, options, () => 1)).toBe(4000)
  })

  it('is capped however many failures there were', () => {
    expect(backoffDelay(50, options, () => 1)).toBe(30_000)
    expect(backoffDelay(1_000_000, options, () => 0)).toBe(15_000)
  })

  it('spreads retries of many peers (jitter)', () => {
    const delays = new Set(Array.from({ length: 20 }, () => backoffDelay(4, options)))
    expect(delays.size).toBeGreaterThan(10)
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(4000)
      expect(d).toBeLessThanOrEqual(8000)
    }
  })
})
