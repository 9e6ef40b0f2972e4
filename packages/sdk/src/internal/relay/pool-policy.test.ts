import { describe, expect, it } from 'vitest'
import { nextRetryAt, relaysToAcquire, type RelayHealth } from './pool-policy.js'

function relay (index: number, over: Partial<RelayHealth> = {}): RelayHealth {
  return { index, held: false, failures: 0, rttMs: undefined, retryAt: 0, ...over }
}

describe('relaysToAcquire', () => {
  it('takes the first K relays in configured order when nothing is known', () => {
    expect(relaysToAcquire([relay(0), relay(1), relay(2)], 2, 0).map(r => r.index)).toEqual([0, 1])
  })

  it('only fills the missing slots', () => {
    expect(relaysToAcquire([relay(0, { held: true }), relay(1), relay(2)], 2, 0).map(r => r.index)).toEqual([1])
    expect(relaysToAcquire([relay(0, { held: true }), relay(1, { held: true }), relay(2)], 2, 0)).toEqual([])
  })

  it('prefers relays with fewer failures, then lower RTT', () => {
    const relays = [relay(0, { failures: 2 }), relay(1, { rttMs: 80 }), relay(2, { rttMs: 20 })]
    expect(relaysToAcquire(relays, 2, 0).map(r => r.index)).toEqual([2, 1])
  })

  it('replaces a dead relay with the next one while the dead one backs off', () => {
    const relays = [relay(0, { failures: 1, retryAt: 5000 }), relay(1, { held: true }), relay(2)]
    expect(relaysToAcquire(relays, 2, 1000).map(r => r.index)).toEqual([2])
  })

  it('retries a relay in backoff once its time has come', () => {
    const relays = [relay(0, { failures: 1, retryAt: 5000 }), relay(1, { held: true })]
    expect(relaysToAcquire(relays, 2, 4999)).toEqual([])
    expect(relaysToAcquire(relays, 2, 5000).map(r => r.index)).toEqual([0])
  })
})

describe('nextRetryAt', () => {
  it('is the earliest retry while the pool is short of relays', () => {
    expect(nextRetryAt([relay(0, { retryAt: 900 }), relay(1, { retryAt: 700 })], 1)).toBe(700)
  })

  it('is undefined when the pool holds enough', () => {
    expect(nextRetryAt([relay(0, { held: true }), relay(1, { retryAt: 700 })], 1)).toBeUndefined()
  })
})
