import { describe, expect, it } from 'vitest'
import { isLifelineError } from '../../errors.js'
import { abortError, deadline, isTimeoutReason } from './abort.js'

describe('abortError', () => {
  it("gives ABORTED when the caller's own AbortSignal.timeout() fired", async () => {
    const signal = AbortSignal.timeout(1)
    await new Promise(resolve => { signal.addEventListener('abort', resolve, { once: true }) })
    expect(isLifelineError(abortError(signal, 'Waiting'), 'ABORTED')).toBe(true)
  })

  it('gives ABORTED when the caller aborted with a reason of its own', () => {
    const controller = new AbortController()
    controller.abort(new Error('user left'))
    const err = abortError(controller.signal, 'Connecting')
    expect(isLifelineError(err, 'ABORTED')).toBe(true)
    expect(err.message).toContain('Connecting')
  })

  it("gives TIMEOUT when the SDK's default deadline passed", async () => {
    const limit = deadline({}, 1, 'Connecting')
    await new Promise(resolve => { limit.signal.addEventListener('abort', resolve, { once: true }) })
    expect(isLifelineError(abortError(limit.signal), 'TIMEOUT')).toBe(true)
  })
})

describe('isTimeoutReason', () => {
  it("counts the SDK's deadline and a caller's AbortSignal.timeout(), not a plain abort", async () => {
    const limit = deadline({}, 1, 'Waiting')
    const callerTimeout = AbortSignal.timeout(1)
    await Promise.all([limit.signal, callerTimeout].map(async s => new Promise(resolve => { s.addEventListener('abort', resolve, { once: true }) })))
    expect(isTimeoutReason(limit.signal.reason)).toBe(true)
    expect(isTimeoutReason(callerTimeout.reason)).toBe(true)
    expect(isTimeoutReason(AbortSignal.abort().reason)).toBe(false)
  })
})
