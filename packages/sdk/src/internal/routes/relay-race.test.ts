/**
 * The staggered relay race on a fake clock: relays start in order, each one stagger
 * after the previous, or at once when one fails; the first route wins.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ROUTE_STAGGER_MS } from '../../constants.js'
import { parseRelayAddress, type RelayAddress } from '../util/parse.js'
import type { RouteFailure } from './failure.js'
import { raceRelays, type RaceOutcome } from './relay-race.js'

const RELAYS = [
  '/ip4/10.0.0.1/tcp/4001/ws/p2p/12D3KooWHFrmLWTTDD4NodngtRMEVYtDGW3mcpGXNzJZeRTMM4Aw',
  '/ip4/10.0.0.2/tcp/4001/ws/p2p/12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq',
  '/ip4/10.0.0.3/tcp/4001/ws/p2p/12D3KooWRvKxy16gGU3gmxRSXoaY8xqWEGEvASgS43gR1BSxs4dk'
].map(parseRelayAddress)

/** What each relay does, and after how long (fake ms). */
type Plan = Record<string, { after: number, result: 'carries' | RouteFailure['kind'] } | 'hangs'>

interface Race {
  outcome: Promise<RaceOutcome>
  started: Array<{ relay: string, at: number }>
  controller: AbortController
}

function race (plan: Plan, settled: () => boolean = () => false): Race {
  const started: Array<{ relay: string, at: number }> = []
  const controller = new AbortController()
  const t0 = Date.now()
  const outcome = raceRelays({
    relays: RELAYS,
    staggerMs: ROUTE_STAGGER_MS,
    signal: controller.signal,
    settled,
    attempt: async (relay: RelayAddress) => {
      started.push({ relay: relay.text, at: Date.now() - t0 })
      const step = plan[relay.text] ?? 'hangs'
      if (step === 'hangs') {
        return new Promise<RouteFailure | undefined>(() => {})
      }
      await new Promise(resolve => setTimeout(resolve, step.after))
      return step.result === 'carries' ? undefined : { kind: step.result, relay: relay.text, step: 'circuit', cause: new Error(step.result) }
    }
  })
  return { outcome, started, controller }
}

const text = (i: number): string => RELAYS[i]?.text ?? ''

describe('raceRelays', () => {
  beforeEach(() => { vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] }) })
  afterEach(() => { vi.useRealTimers() })

  it('starts the relays in order, one stagger apart, while none has carried the link', async () => {
    const r = race({})
    await vi.advanceTimersByTimeAsync(ROUTE_STAGGER_MS * 5)
    expect(r.started).toEqual([
      { relay: text(0), at: 0 },
      { relay: text(1), at: ROUTE_STAGGER_MS },
      { relay: text(2), at: 2 * ROUTE_STAGGER_MS }
    ])
    r.controller.abort()
    expect(await r.outcome).toEqual({ kind: 'aborted' })
  })

  it('ends with the first route that carries the link, starting no more relays', async () => {
    const r = race({ [text(0)]: 'hangs', [text(1)]: { after: 10, result: 'carries' } })
    await vi.advanceTimersByTimeAsync(ROUTE_STAGGER_MS + 10)
    expect(await r.outcome).toEqual({ kind: 'carried' })
    await vi.advanceTimersByTimeAsync(ROUTE_STAGGER_MS * 4)
    expect(r.started.map(s => s.relay)).toEqual([text(0), text(1)])
  })

  it('starts the next relay at once when one fails, without waiting for the stagger', async () => {
    const r = race({ [text(0)]: { after: 20, result: 'peer-unreachable' }, [text(1)]: { after: 10, result: 'carries' } })
    await vi.advanceTimersByTimeAsync(30)
    expect(r.started).toEqual([{ relay: text(0), at: 0 }, { relay: text(1), at: 20 }])
    expect(await r.outcome).toEqual({ kind: 'carried' })
  })

  it('reports every failure once all relays failed', async () => {
    const r = race({
      [text(0)]: { after: 5, result: 'relay-unreachable' },
      [text(1)]: { after: 5, result: 'peer-unreachable' },
      [text(2)]: { after: 500, result: 'relay-unreachable' }
    })
    await vi.advanceTimersByTimeAsync(ROUTE_STAGGER_MS * 4)
    const outcome = await r.outcome
    expect(outcome.kind).toBe('failed')
    expect(outcome.kind === 'failed' && outcome.failures.map(f => [f.relay, f.kind])).toEqual([
      [text(0), 'relay-unreachable'],
      [text(1), 'peer-unreachable'],
      [text(2), 'relay-unreachable']
    ])
  })

  it('stops trying relays once the link is carried some other way', async () => {
    let settled = false
    const r = race({ [text(0)]: { after: 100, result: 'peer-unreachable' } }, () => settled)
    settled = true
    await vi.advanceTimersByTimeAsync(ROUTE_STAGGER_MS)
    expect(await r.outcome).toEqual({ kind: 'carried' })
    expect(r.started.map(s => s.relay)).toEqual([text(0)])
  })

  it('ends at once when aborted, leaving no timer behind', async () => {
    const r = race({})
    r.controller.abort()
    expect(await r.outcome).toEqual({ kind: 'aborted' })
    expect(vi.getTimerCount()).toBe(0)
  })
})
