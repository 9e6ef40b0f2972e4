import { describe, expect, it } from 'vitest'
import { RateLimit } from './rate-limit.js'

describe('RateLimit', () => {
  it('allows a burst, then the rate', () => {
    const limit = new RateLimit(10, 3, 0)
    expect([limit.take(0), limit.take(0), limit.take(0), limit.take(0)]).toEqual([true, true, true, false])
    expect(limit.take(50)).toBe(false)
    expect(limit.take(100)).toBe(true)
    expect(limit.take(100)).toBe(false)
  })

  it('saves up no more than the burst', () => {
    const limit = new RateLimit(10, 2, 0)
    expect([limit.take(60_000), limit.take(60_000), limit.take(60_000)]).toEqual([true, true, false])
  })
})
