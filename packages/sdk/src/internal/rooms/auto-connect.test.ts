import { logger } from '@libp2p/logger'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { AUTO_CONNECT_RETRY_BASE_MS } from '../../constants.js'
import type { Link } from '../../types.js'
import { AutoConnect, dialsFirst } from './auto-connect.js'

const A = '12D3KooWAAAA'
const B = '12D3KooWBBBB'

beforeEach(() => { vi.useFakeTimers() })
afterEach(() => { vi.useRealTimers() })

function harness (self: string, outcome: () => Promise<Link>): { auto: AutoConnect, dials: string[], members: Set<string> } {
  const dials: string[] = []
  const members = new Set<string>()
  const auto = new AutoConnect({
    self,
    connect: async peerId => { dials.push(peerId); return outcome() },
    link: () => undefined,
    isMember: peerId => members.has(peerId),
    random: () => 1,
    log: logger('test:auto-connect')
  })
  return { auto, dials, members }
}

describe('autoConnect', () => {
  it('lets only the peer whose ID sorts lower dial, so two members open one link', () => {
    expect(dialsFirst(A, B)).toBe(true)
    expect(dialsFirst(B, A)).toBe(false)
    const atA = harness(A, async () => Promise.resolve({ closed: false } as Link))
    const atB = harness(B, async () => Promise.resolve({ closed: false } as Link))
    atA.members.add(B)
    atB.members.add(A)
    atA.auto.consider(B)
    atB.auto.consider(A)
    expect(atA.dials).toEqual([B])
    expect(atB.dials).toEqual([])
  })

  it('tries a failed dial again after a backoff while the member stays, and not once it left', async () => {
    const h = harness(A, async () => Promise.reject(new Error('unreachable')))
    h.members.add(B)
    h.auto.consider(B)
    await vi.advanceTimersByTimeAsync(0)
    expect(h.dials).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(AUTO_CONNECT_RETRY_BASE_MS)
    expect(h.dials).toHaveLength(2)
    h.members.delete(B)
    h.auto.forget(B)
    await vi.advanceTimersByTimeAsync(AUTO_CONNECT_RETRY_BASE_MS * 8)
    expect(h.dials).toHaveLength(2)
  })
})
