import { describe, expect, it } from 'vitest'
import { RelayLiveness } from './relay-liveness.js'

const init = { missesToDead: 3, lateTimerMs: 250 }

describe('RelayLiveness', () => {
  it('calls a relay slow after one missed ping and dead after three in a row', () => {
    const liveness = new RelayLiveness(init)
    expect(liveness.verdict).toBe('alive')
    expect(liveness.missed(0)).toBe('slow')
    expect(liveness.missed(10)).toBe('slow')
    expect(liveness.missed(-500)).toBe('dead')
  })

  it('forgives every miss before a pong', () => {
    const liveness = new RelayLiveness(init)
    liveness.missed(0)
    liveness.missed(0)
    liveness.answered()
    expect(liveness.verdict).toBe('alive')
    expect(liveness.missed(0)).toBe('slow')
  })

  it('does not count a timeout that fired on a blocked event loop', () => {
    const liveness = new RelayLiveness(init)
    // a 1.5 s GC pause: every outstanding ping's timeout fires together, late
    expect(liveness.missed(1500)).toBe('alive')
    expect(liveness.missed(750)).toBe('alive')
    expect(liveness.missed(251)).toBe('alive')
    // once the loop runs on time again, silence counts
    expect(liveness.missed(250)).toBe('slow')
  })

  it('does not count a miss while the relay was forwarding circuit data to us', () => {
    const liveness = new RelayLiveness(init)
    // pongs queued behind a bulk transfer the relay keeps delivering
    expect(liveness.missed(0, true)).toBe('alive')
    expect(liveness.missed(0, true)).toBe('alive')
    expect(liveness.missed(0, true)).toBe('alive')
    // the data stops too: silence counts again
    expect(liveness.missed(0, false)).toBe('slow')
    expect(liveness.missed(0)).toBe('slow')
    expect(liveness.missed(0)).toBe('dead')
  })

  it('keeps a slow relay slow while late timeouts come in', () => {
    const liveness = new RelayLiveness(init)
    liveness.missed(0)
    expect(liveness.missed(2000)).toBe('slow')
    expect(liveness.missed(0)).toBe('slow')
    expect(liveness.missed(0)).toBe('dead')
  })

  it('starts over on a new connection', () => {
    const liveness = new RelayLiveness(init)
    liveness.missed(0)
    liveness.missed(0)
    liveness.missed(0)
    liveness.reset()
    expect(liveness.verdict).toBe('alive')
  })
})
