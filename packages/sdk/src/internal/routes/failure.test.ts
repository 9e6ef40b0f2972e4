import { describe, expect, it } from 'vitest'
import { LifelineError } from '../../errors.js'
import { connectError, routeFailure, type RouteFailure } from './failure.js'

const REMOTE = '12D3KooWRvKxy16gGU3gmxRSXoaY8xqWEGEvASgS43gR1BSxs4dk'
const failure = (kind: RouteFailure['kind'], relay = '/relay/1'): RouteFailure => ({ kind, relay, step: 'circuit', cause: new Error(kind) })

describe('routeFailure', () => {
  it('keeps the blame it was given while the signal has not fired', () => {
    expect(routeFailure(new AbortController().signal, 'peer-unreachable', '/relay/1', 'circuit', 'x').kind).toBe('peer-unreachable')
  })

  it('reports a fired signal as aborted, or as timeout for a deadline', () => {
    expect(routeFailure(AbortSignal.abort(), 'relay-unreachable', '/relay/1', 'relay', 'x').kind).toBe('aborted')
    expect(routeFailure(AbortSignal.abort(new LifelineError('TIMEOUT', 'late')), 'relay-unreachable', '/relay/1', 'relay', 'x').kind).toBe('timeout')
    expect(routeFailure(AbortSignal.abort(new DOMException('late', 'TimeoutError')), 'peer-unreachable', '/relay/1', 'relay', 'x').kind).toBe('timeout')
  })
})

describe('connectError', () => {
  it('blames the remote when any relay answered for it', () => {
    const err = connectError(REMOTE, [failure('relay-unreachable', '/relay/1'), failure('peer-unreachable', '/relay/2')])
    expect(err.code).toBe('PEER_UNREACHABLE')
    expect(err.message).toContain('/relay/1')
    expect(err.message).toContain('/relay/2')
  })

  it('blames the relays when none could be reached', () => {
    expect(connectError(REMOTE, [failure('relay-unreachable'), failure('relay-unreachable')]).code).toBe('RELAY_UNREACHABLE')
    expect(connectError(REMOTE, [failure('relay-unreachable'), failure('timeout')]).code).toBe('RELAY_UNREACHABLE')
    expect(connectError(REMOTE, []).code).toBe('RELAY_UNREACHABLE')
  })

  it('reports deadlines and aborts only when nothing else was learnt', () => {
    expect(connectError(REMOTE, [failure('timeout'), failure('aborted')]).code).toBe('TIMEOUT')
    expect(connectError(REMOTE, [failure('aborted')]).code).toBe('ABORTED')
  })
})
