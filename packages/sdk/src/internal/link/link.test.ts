import type { Connection, Stream } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { streamPair } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { HANDSHAKE_TIMEOUT_MS } from '../../constants.js'
import type { LinkPath } from '../../types.js'
import { LinkImpl } from './link.js'

const RELAY = '12D3KooWHFrmLWTTDD4NodngtRMEVYtDGW3mcpGXNzJZeRTMM4Aw'
const links: LinkImpl[] = []
let connections = 0

function link (direction: 'outbound' | 'inbound'): LinkImpl {
  const created = new LinkImpl({
    remotePeerId: direction === 'outbound' ? 'B' : 'A',
    direction,
    maxMessageBytes: 1024 * 1024,
    sendBufferBytes: 4 * 1024 * 1024,
    log: logger(`test:link:${direction}`),
    newStream: () => Promise.reject(new Error('not in this test')),
    onClose: () => {},
    onRemoteDirectUp: () => {},
    onPathLost: () => {},
    onFrameReceived: () => {}
  })
  links.push(created)
  return created
}

/** A stand-in for a libp2p connection: the link reads only these fields. */
function connection (tier: LinkPath): Connection {
  const remoteAddr = tier === 'direct'
    ? multiaddr('/ip4/10.0.0.2/udp/1/webrtc-direct')
    : multiaddr(`/ip4/10.0.0.1/tcp/4001/ws/p2p/${RELAY}/p2p-circuit`)
  return { id: `c${++connections}`, direct: tier === 'direct', remoteAddr } as unknown as Connection
}

/** Join two links by a new in-memory path of the given tier; returns both stream ends. */
async function join (a: LinkImpl, b: LinkImpl, tier: LinkPath): Promise<[Stream, Stream]> {
  const [outbound, inbound] = await streamPair()
  a.attach(outbound, connection(tier))
  b.attach(inbound, connection(tier))
  return [outbound, inbound]
}

function collect (target: LinkImpl): number[] {
  const received: number[] = []
  target.addEventListener('message', e => { received.push(Number(new TextDecoder().decode(e.detail))) })
  return received
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)

afterEach(() => {
  for (const l of links.splice(0)) {
    l.shutdown(undefined)
  }
})

describe('Link', () => {
  it('closes a path whose remote never says HELLO once the handshake deadline passes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    try {
      const b = link('inbound')
      // the other end of the pair is never read or written: no HELLO comes back
      const [silent] = await streamPair()
      b.attach(silent, connection('relayed'))
      expect(b.status().paths).toBe(1)
      await vi.advanceTimersByTimeAsync(HANDSHAKE_TIMEOUT_MS - 1)
      expect(b.status().paths).toBe(1)
      await vi.advanceTimersByTimeAsync(1)
      expect(b.status().paths).toBe(0)
      expect(b.established).toBe(false)
    } finally {
      vi.useRealTimers()
    }
  })

  it('moves to a direct path at once and reports the change', async () => {
    const a = link('outbound')
    const b = link('inbound')
    await join(a, b, 'relayed')
    await a.ready()
    expect(a.path).toBe('relayed')
    const changes: string[] = []
    a.addEventListener('pathchange', e => { changes.push(`${e.detail.previous}->${e.detail.path}`) })
    await join(a, b, 'direct')
    await a.waitForPath('direct', { signal: AbortSignal.timeout(2000) })
    expect(changes).toEqual(['relayed->direct'])
  })

  it('delivers every message once and in order when the path in use dies mid-stream', async () => {
    const a = link('outbound')
    const b = link('inbound')
    const received = collect(b)
    await join(a, b, 'relayed')
    const [directA] = await join(a, b, 'direct')
    await a.waitForPath('direct', { signal: AbortSignal.timeout(2000) })
    for (let i = 1; i <= 500; i++) {
      await a.send(String(i))
      if (i === 250) {
        // the direct path dies with messages still in flight on it
        directA.abort(new Error('ICE failed'))
      }
    }
    await expect.poll(() => received.length).toBe(500)
    expect(received).toEqual(range(1, 500))
    expect(a.path).toBe('relayed')
  })

  it('keeps messages sent while it has no path, and delivers them on the next one', async () => {
    const a = link('outbound')
    const b = link('inbound')
    const received = collect(b)
    const [first] = await join(a, b, 'relayed')
    await a.ready()
    await a.send('1')
    await expect.poll(() => received).toEqual([1])
    first.abort(new Error('relay died'))
    await expect.poll(() => a.usable).toBe(false)
    await a.send('2')
    await a.send('3')
    await join(a, b, 'relayed')
    await expect.poll(() => received).toEqual([1, 2, 3])
  })

  it('makes send() wait while the send buffer is full (backpressure)', async () => {
    const a = link('outbound')
    a.shutdown(undefined)
    links.splice(links.indexOf(a), 1)
    const small = new LinkImpl({
      remotePeerId: 'B',
      direction: 'outbound',
      maxMessageBytes: 1000,
      sendBufferBytes: 2000,
      log: logger('test:link:small'),
      newStream: () => Promise.reject(new Error('unused')),
      onClose: () => {},
      onRemoteDirectUp: () => {},
      onPathLost: () => {},
      onFrameReceived: () => {}
    })
    links.push(small)
    await small.send(new Uint8Array(1000))
    await small.send(new Uint8Array(1000))
    let third = false
    const pending = small.send(new Uint8Array(1000)).then(() => { third = true })
    await new Promise(resolve => setTimeout(resolve, 50))
    expect(third).toBe(false)
    const b = link('inbound')
    await join(small, b, 'relayed')
    await pending
    expect(third).toBe(true)
  })

  it('closes on both sides and rejects later sends', async () => {
    const a = link('outbound')
    const b = link('inbound')
    await join(a, b, 'relayed')
    await a.ready()
    await a.close()
    await expect.poll(() => b.closed).toBe(true)
    await expect(a.send('late')).rejects.toMatchObject({ code: 'LINK_CLOSED' })
  })
})
