import { describe, expect, it } from 'vitest'
import { DirectRetryPolicy } from './direct-retry.js'

function policy (): { t: { now: number }, retry: DirectRetryPolicy } {
  const t = { now: 0 }
  // random() = 1: the top of each jitter range, so the delays are exact
  return { t, retry: new DirectRetryPolicy({ now: () => t.now, random: () => 1 }, { baseMs: 2000, maxMs: 60_000 }) }
}

describe('DirectRetryPolicy', () => {
  it('lets the first upgrade run at once', () => {
    expect(policy().retry.due()).toBe(true)
  })

  it('backs off after each failed upgrade, doubling up to the cap', () => {
    const { t, retry } = policy()
    const waits: number[] = []
    for (let i = 0; i < 7; i++) {
      retry.failed()
      const start = t.now
      while (!retry.due()) {
        t.now += 500
      }
      waits.push(t.now - start)
    }
    expect(waits).toEqual([2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000])
  })

  it('retries a direct path that died after the first step, however often upgrades failed before', () => {
    const { t, retry } = policy()
    retry.failed()
    retry.failed()
    retry.failed()
    t.now = 100_000
    retry.succeeded()
    retry.lost()
    expect(retry.due()).toBe(false)
    t.now += 2000
    expect(retry.due()).toBe(true)
    // the backoff starts over: a failure after the loss is a first failure
    retry.failed()
    t.now += 1999
    expect(retry.due()).toBe(false)
    t.now += 1
    expect(retry.due()).toBe(true)
  })
})
