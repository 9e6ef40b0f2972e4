import { describe, expect, it } from 'vitest'
import { isLifelineError } from '../../errors.js'
import { parsePeerId, parseRelayAddress } from './parse.js'

const RELAY_ID = '12D3KooWHFrmLWTTDD4NodngtRMEVYtDGW3mcpGXNzJZeRTMM4Aw'

function codeOf (fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return isLifelineError(err) ? err.code : 'not a LifelineError'
  }
  return undefined
}

describe('parsePeerId', () => {
  it('accepts a base58btc peer ID', () => {
    expect(parsePeerId(RELAY_ID).toString()).toBe(RELAY_ID)
  })

  it.each(['', 'not-a-peer-id', '12D3KooW', 42, null])('rejects %j with INVALID_PEER_ID', value => {
    expect(codeOf(() => parsePeerId(value))).toBe('INVALID_PEER_ID')
  })
})

describe('parseRelayAddress', () => {
  it('accepts a relay multiaddr ending in its peer ID', () => {
    const relay = parseRelayAddress(`/ip4/127.0.0.1/tcp/4001/ws/p2p/${RELAY_ID}`)
    expect(relay.peerId.toString()).toBe(RELAY_ID)
  })

  it.each([
    'garbage',
    '/ip4/127.0.0.1/tcp/4001/ws',
    `/ip4/127.0.0.1/tcp/4001/ws/p2p/${RELAY_ID}/p2p-circuit`,
    '/ip4/999.1.1.1/tcp/1/ws'
  ])('rejects %s with INVALID_MULTIADDR', value => {
    expect(codeOf(() => parseRelayAddress(value))).toBe('INVALID_MULTIADDR')
  })
})
