import { describe, expect, it } from 'vitest'
import { isLifelineError } from '../../errors.js'
import { multiaddr } from '@multiformats/multiaddr'
import { RELAY_TRANSPORT_PREFERENCE } from '../../constants.js'
import { parsePeerId, parseRelayAddress, parseRelays, relayLegOf, transportOf } from './parse.js'

const RELAY_ID = '12D3KooWHFrmLWTTDD4NodngtRMEVYtDGW3mcpGXNzJZeRTMM4Aw'
const OTHER_ID = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'
const CERTHASH = 'uEiDDq4_xNyDorZBH3TlGazyJdOWSwvo4PUo5YHFMrvDE8g'

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

describe('parseRelays', () => {
  const wss = `/dns4/relay.example.com/tcp/443/wss/p2p/${RELAY_ID}`
  const direct = `/ip4/203.0.113.7/udp/443/webrtc-direct/certhash/${CERTHASH}/p2p/${RELAY_ID}`
  const other = `/ip4/203.0.113.8/tcp/80/ws/p2p/${OTHER_ID}`

  it('makes one relay of the addresses that share a peer ID, in transport preference order', () => {
    const relays = parseRelays([direct, other, wss, direct], RELAY_TRANSPORT_PREFERENCE)
    expect(relays.map(r => r.peerId.toString())).toEqual([RELAY_ID, OTHER_ID])
    expect(relays[0]?.addresses.map(a => a.transport)).toEqual(['wss', 'webrtc-direct'])
    expect(relays[0]?.text).toBe(wss)
    expect(relays[1]?.addresses.map(a => a.text)).toEqual([other])
  })

  it('rejects a WebTransport address, which the SDK cannot dial, and says what to give instead', () => {
    const address = `/ip4/203.0.113.7/udp/443/quic-v1/webtransport/certhash/${CERTHASH}/p2p/${RELAY_ID}`
    expect(codeOf(() => parseRelays([wss, address], RELAY_TRANSPORT_PREFERENCE))).toBe('INVALID_MULTIADDR')
    expect(() => parseRelays([address], RELAY_TRANSPORT_PREFERENCE)).toThrow(/WSS or WebRTC-Direct/)
  })

  it('rejects a WebRTC-Direct address without its certificate hash', () => {
    expect(codeOf(() => parseRelays([`/ip4/203.0.113.7/udp/443/webrtc-direct/p2p/${RELAY_ID}`], RELAY_TRANSPORT_PREFERENCE))).toBe('INVALID_MULTIADDR')
  })

  it.each([
    ['/dns4/a.example/tcp/443/wss', 'wss'],
    ['/dns4/a.example/tcp/443/tls/ws', 'wss'],
    ['/ip4/127.0.0.1/tcp/80/ws', 'ws'],
    [`/ip4/127.0.0.1/udp/1/webrtc-direct/certhash/${CERTHASH}`, 'webrtc-direct'],
    ['/ip4/127.0.0.1/tcp/1', 'other']
  ])('names the transport of %s %s', (address, transport) => {
    expect(transportOf(multiaddr(address))).toBe(transport)
  })
})

describe('relayLegOf', () => {
  const relayId = RELAY_ID
  const remote = OTHER_ID
  it('names the transport to the relay of a circuit address, and nothing for another address', () => {
    expect(relayLegOf(multiaddr(`/ip4/10.0.0.1/udp/4443/webrtc-direct/certhash/${CERTHASH}/p2p/${relayId}/p2p-circuit/p2p/${remote}`))).toBe('webrtc-direct')
    expect(relayLegOf(multiaddr(`/dns4/relay.example/tcp/443/tls/ws/p2p/${relayId}/p2p-circuit/p2p/${remote}`))).toBe('wss')
    // the private WebRTC upgrade's address names webrtc after the circuit, not before it
    expect(relayLegOf(multiaddr(`/ip4/10.0.0.1/tcp/4001/ws/p2p/${relayId}/p2p-circuit/webrtc/p2p/${remote}`))).toBe('ws')
    expect(relayLegOf(multiaddr(`/ip4/10.0.0.1/tcp/4001/ws/p2p/${relayId}`))).toBeUndefined()
  })
})
