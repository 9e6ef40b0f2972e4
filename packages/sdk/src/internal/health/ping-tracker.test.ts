import { describe, expect, it } from 'vitest'
import { MAX_OUTSTANDING_PINGS, PING_TIMEOUT_MAX_MS, PING_TIMEOUT_MIN_MS } from '../../constants.js'
import { PingTracker } from './ping-tracker.js'

describe('PingTracker', () => {
  it('smooths RTT samples', () => {
    const t = new PingTracker()
    t.pong(t.sent(0), 80)
    expect(t.srtt).toBe(80)
    t.pong(t.sent(1000), 1040)
    expect(t.srtt).toBe(75)
  })

  it('ignores pongs it never asked for', () => {
    const t = new PingTracker()
    expect(t.pong(12345, 10)).toBeUndefined()
    expect(t.srtt).toBeUndefined()
  })

  it('clamps the timeout to 3 x RTT between its floor and ceiling', () => {
    const t = new PingTracker()
    expect(t.timeoutMs).toBe(PING_TIMEOUT_MIN_MS)
    t.pong(t.sent(0), 500)
    expect(t.timeoutMs).toBe(1500)
    t.pong(t.sent(1000), 1000 + 100_000)
    expect(t.timeoutMs).toBe(PING_TIMEOUT_MAX_MS)
  })

  it('declares the path dead when a ping goes unanswered past the timeout', () => {
    const t = new PingTracker()
    t.sent(0)
    expect(t.dead(PING_TIMEOUT_MIN_MS)).toBe(false)
    expect(t.dead(PING_TIMEOUT_MIN_MS + 1)).toBe(true)
  })

  it('counts any received frame as life, so bulk data does not kill its own path', () => {
    const t = new PingTracker()
    t.sent(0)
    t.received(1400)
    expect(t.dead(2000)).toBe(false)
    expect(t.dead(1400 + PING_TIMEOUT_MIN_MS)).toBe(false)
    expect(t.dead(1400 + PING_TIMEOUT_MIN_MS + 1)).toBe(true)
  })

  it('a pong settles every earlier ping too', () => {
    const t = new PingTracker()
    t.sent(0)
    const second = t.sent(500)
    t.pong(second, 520)
    expect(t.dead(10_000)).toBe(false)
  })
})

describe('PingTracker with other timeouts', () => {
  it('uses the bounds it is given', () => {
    const t = new PingTracker({ factor: 2, minMs: 100, maxMs: 300 })
    t.pong(t.sent(0), 120)
    expect(t.timeoutMs).toBe(240)
  })
})

describe('PingTracker memory', () => {
  it('remembers at most MAX_OUTSTANDING_PINGS unanswered pings, and still sees silence', () => {
    const tracker = new PingTracker()
    for (let t = 0; t < 10_000; t += 500) {
      tracker.sent(t)
    }
    expect(tracker.unanswered).toBe(MAX_OUTSTANDING_PINGS)
    expect(tracker.dead(10_000)).toBe(true)
  })
})

describe('PingTracker timeouts', () => {
  it('are whole milliseconds, usable with AbortSignal.timeout() in Node', () => {
    const tracker = new PingTracker()
    tracker.pong(tracker.sent(0), 343.37)
    expect(Number.isInteger(tracker.timeoutMs)).toBe(true)
    expect(() => AbortSignal.timeout(tracker.timeoutMs)).not.toThrow()
  })
})
