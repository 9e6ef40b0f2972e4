import { describe, expect, it } from 'vitest'
import { isLifelineError, LifelineError } from './errors.js'

describe('isLifelineError', () => {
  it('recognises errors by code, also from another copy of the SDK', () => {
    const err = new LifelineError('TIMEOUT', 'slow')
    expect(err.name).toBe('LifelineError')
    expect(isLifelineError(err)).toBe(true)
    expect(isLifelineError(err, 'TIMEOUT')).toBe(true)
    expect(isLifelineError(err, 'ABORTED')).toBe(false)
    const foreign = Object.assign(new Error('x'), { isLifelineError: true, code: 'ABORTED' })
    expect(isLifelineError(foreign, 'ABORTED')).toBe(true)
  })

  it('rejects other values', () => {
    expect(isLifelineError(new Error('x'))).toBe(false)
    expect(isLifelineError(undefined)).toBe(false)
    expect(isLifelineError({ code: 'TIMEOUT' })).toBe(false)
  })
})
