import { describe, expect, it } from 'vitest'
import { describeFailure } from './failure.js'

describe('describeFailure', () => {
  it('names a WebSocket error Event instead of printing [object Event]', () => {
    expect(describeFailure(new Event('error'))).toBe('could not connect (WebSocket error)')
    expect(describeFailure(new Error('refused'))).toBe('refused')
    expect(describeFailure('plain')).toBe('plain')
  })
})
