import { describe, expect, it } from 'vitest'
import { selectPath, type Candidate } from './path-selector.js'

const relayed = (id: string, rttMs?: number): Candidate => ({ id, tier: 'relayed', rttMs })
const direct = (id: string, rttMs?: number): Candidate => ({ id, tier: 'direct', rttMs })

describe('selectPath', () => {
  it('picks nothing when there is no path', () => {
    expect(selectPath([], undefined)).toBeUndefined()
  })

  it('moves to a direct path at once, even a slower one', () => {
    expect(selectPath([relayed('r', 5), direct('d', 50)], 'r')?.id).toBe('d')
  })

  it('falls back to the relay at once when the direct path is gone', () => {
    expect(selectPath([relayed('r', 5)], 'd')?.id).toBe('r')
  })

  it('stays on the current path inside a tier without a clear RTT gain', () => {
    expect(selectPath([relayed('a', 20), relayed('b', 18)], 'a')?.id).toBe('a')
  })

  it('switches inside a tier for a clear RTT gain', () => {
    expect(selectPath([relayed('a', 40), relayed('b', 10)], 'a')?.id).toBe('b')
  })

  it('prefers a measured path over an unmeasured one when choosing fresh', () => {
    expect(selectPath([relayed('a'), relayed('b', 10)], undefined)?.id).toBe('b')
  })
})
