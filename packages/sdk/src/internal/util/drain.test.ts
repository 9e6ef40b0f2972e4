import type { MessageStream } from '@libp2p/interface'
import { describe, expect, it } from 'vitest'
import { drained } from './drain.js'

/** The two things `drained` reads: the flag and the events. */
function fakeStream (): MessageStream & EventTarget {
  // a stand-in cast once: the helper touches only writableNeedsDrain and events
  return Object.assign(new EventTarget(), { writableNeedsDrain: false }) as unknown as MessageStream & EventTarget
}

async function settledWithin (promise: Promise<unknown>, ticks: number): Promise<boolean> {
  let settled = false
  promise.then(() => { settled = true }, () => { settled = true })
  for (let i = 0; i < ticks; i++) {
    await Promise.resolve()
  }
  return settled
}

describe('drained', () => {
  it('resolves at once when the stream does not need draining', async () => {
    const stream = fakeStream()
    expect(await settledWithin(drained(stream), 3)).toBe(true)
  })

  it('waits for every drain, not only the first', async () => {
    const stream = fakeStream()
    stream.writableNeedsDrain = true
    const first = drained(stream)
    expect(await settledWithin(first, 5)).toBe(false)
    stream.writableNeedsDrain = false
    stream.dispatchEvent(new Event('drain'))
    expect(await settledWithin(first, 3)).toBe(true)

    // full again: a second wait must hold until the second drain
    stream.writableNeedsDrain = true
    const second = drained(stream)
    expect(await settledWithin(second, 5)).toBe(false)
    stream.dispatchEvent(new Event('drain'))
    expect(await settledWithin(second, 3)).toBe(true)
  })

  it('rejects when the stream closes while it waits', async () => {
    const stream = fakeStream()
    stream.writableNeedsDrain = true
    const waiting = drained(stream)
    stream.dispatchEvent(Object.assign(new Event('close'), { error: new Error('gone') }))
    await expect(waiting).rejects.toThrow('gone')
  })
})
