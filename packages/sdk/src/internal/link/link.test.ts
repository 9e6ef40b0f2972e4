import type { Connection, Stream } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { streamPair } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { TypedEventEmitter } from 'main-event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { HANDSHAKE_TIMEOUT_MS, NO_PATH_TIMEOUT_MS, PING_INTERVAL_MS, PING_TIMEOUT_MAX_MS, PING_TIMEOUT_MIN_MS } from '../../constants.js'
import type { LinkDirection, LinkPath } from '../../types.js'
import { encodeFrame, FrameDecoder, FrameType, type Frame } from './frame.js'
import { LinkImpl, type LinkInit, type LinkPathEvents } from './link.js'
import { messageCost } from './reliable.js'

const RELAY = '12D3KooWHFrmLWTTDD4NodngtRMEVYtDGW3mcpGXNzJZeRTMM4Aw'
const links: LinkImpl[] = []
let connections = 0

function link (direction: LinkDirection, limits: Partial<Pick<LinkInit, 'maxMessageBytes' | 'sendBufferBytes' | 'receiveWindowBytes'>> = {}): LinkImpl {
  const created = new LinkImpl({
    remotePeerId: direction === 'outbound' ? 'B' : 'A',
    direction,
    maxMessageBytes: 1024 * 1024,
    sendBufferBytes: 4 * 1024 * 1024,
    receiveWindowBytes: 5 * 1024 * 1024,
    ...limits,
    log: logger(`test:link:${direction}`),
    newStream: () => Promise.reject(new Error('not in this test')),
    onClose: () => {},
    onEstablished: () => {},
    onFrameReceived: () => {},
    pathEvents: new TypedEventEmitter<LinkPathEvents>()
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

/** Make a joined path drop everything both ends send, without closing it. */
function blackhole (ends: [Stream, Stream]): void {
  for (const end of ends) {
    end.send = () => true
  }
}

/** Note the sequence number of every DATA frame `end` sends. */
function countData (end: Stream, into: number[]): void {
  const send = end.send.bind(end)
  const decoder = new FrameDecoder(1024 * 1024 + 64)
  end.send = (chunk) => {
    for (const frame of decoder.push(chunk)) {
      if (frame.type === FrameType.DATA) {
        into.push(frame.seq)
      }
    }
    return send(chunk)
  }
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

  it('closes with PEER_UNREACHABLE once it has had no path for NO_PATH_TIMEOUT_MS, unless one comes back', async () => {
    const a = link('outbound')
    const b = link('inbound')
    const [first] = await join(a, b, 'relayed')
    await a.ready()
    const closed: unknown[] = []
    a.addEventListener('close', e => { closed.push(e.detail) })
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    try {
      first.abort(new Error('relay died'))
      await vi.advanceTimersByTimeAsync(NO_PATH_TIMEOUT_MS - 1000)
      expect(a.closed).toBe(false)
      // a path restored in time keeps it open
      const [second] = await join(a, b, 'relayed')
      await vi.advanceTimersByTimeAsync(NO_PATH_TIMEOUT_MS)
      expect(a.closed).toBe(false)
      second.abort(new Error('relay died again'))
      await vi.advanceTimersByTimeAsync(NO_PATH_TIMEOUT_MS)
      expect(a.closed).toBe(true)
      expect(closed).toEqual([expect.objectContaining({ code: 'PEER_UNREACHABLE' })])
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

  it('copies what is unacknowledged onto the relayed path while a silent direct path is still held (hedging)', async () => {
    const a = link('outbound')
    const b = link('inbound')
    const received = collect(b)
    await join(a, b, 'relayed')
    const direct = await join(a, b, 'direct')
    await a.waitForPath('direct', { signal: AbortSignal.timeout(2000) })
    await a.send('1')
    await expect.poll(() => received).toEqual([1])
    // the direct path goes silent both ways without closing, as when UDP is dropped
    blackhole(direct)
    let pathAtLast: string | undefined
    b.addEventListener('message', () => {
      if (received.length === 20) {
        pathAtLast = a.path
      }
    })
    for (let i = 2; i <= 20; i++) {
      await a.send(String(i))
    }
    // all delivered before A's ping timeout could call the direct path dead: A still
    // sends on it when the last one arrives
    await expect.poll(() => received.length, { timeout: PING_TIMEOUT_MIN_MS * 10 }).toBe(20)
    expect(received).toEqual(range(1, 20))
    expect(pathAtLast).toBe('direct')
    // once the direct path is declared dead, the link moves without sending it all again
    await a.waitForPath('relayed', { signal: AbortSignal.timeout(PING_TIMEOUT_MAX_MS * 10) })
    await a.send('21')
    await expect.poll(() => received.length).toBe(21)
    expect(received).toEqual(range(1, 21))
  })

  it('does not copy onto another path while the remote answers pings but reads slowly', async () => {
    const a = link('outbound')
    const b = link('inbound')
    const copies: number[] = []
    const [relayA] = await join(a, b, 'relayed')
    countData(relayA, copies)
    await join(a, b, 'direct')
    await a.waitForPath('direct', { signal: AbortSignal.timeout(2000) })
    const reader = b.messages()
    for (let i = 1; i <= 20; i++) {
      await a.send(String(i))
    }
    // nobody takes the messages, so none is acknowledged, but the path answers
    await new Promise(resolve => setTimeout(resolve, PING_INTERVAL_MS * 2))
    expect(copies).toEqual([])
    let taken = 0
    for await (const message of reader) {
      expect(new TextDecoder().decode(message)).toBe(String(++taken))
      if (taken === 20) {
        break
      }
    }
    expect(copies).toEqual([])
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
    const small = link('outbound', { maxMessageBytes: 1000, sendBufferBytes: 2000 })
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

  it('acknowledges only what the application took: a slow reader slows the sender, nothing is lost', async () => {
    const a = link('outbound', { maxMessageBytes: 1000, sendBufferBytes: 100_000 })
    // room for four 1000-byte messages
    const b = link('inbound', { maxMessageBytes: 1000, receiveWindowBytes: 4 * messageCost(1000) })
    const reader = b.messages()
    await join(a, b, 'relayed')
    await a.ready()
    let sent = 0
    const sending = (async () => {
      for (let i = 0; i < 20; i++) {
        await a.send(new Uint8Array(1000).fill(i))
        sent++
      }
    })()
    // the sender fills the remote's window and waits: the reader has taken nothing
    await expect.poll(() => sent).toBe(4)
    await new Promise(resolve => setTimeout(resolve, 100))
    expect(sent).toBe(4)
    const got: number[] = []
    for await (const message of reader) {
      got.push(message[0] ?? -1)
      if (got.length === 20) {
        break
      }
    }
    await sending
    expect(got).toEqual(range(0, 19))
  })

  it('refuses a message larger than the remote accepts', async () => {
    const a = link('outbound', { maxMessageBytes: 4000 })
    const b = link('inbound', { maxMessageBytes: 1000 })
    await join(a, b, 'relayed')
    await a.ready()
    await expect(a.send(new Uint8Array(1001))).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE' })
    await a.send(new Uint8Array(1000))
  })

  it('cuts off a remote that sends past the receive window, in order or out of it', async () => {
    for (const firstSeq of [0, 1]) {
      const b = link('inbound', { maxMessageBytes: 1000, receiveWindowBytes: 3 * messageCost(1000) })
      b.messages() // a reader that never reads: nothing is taken, nothing acknowledged
      const closed = new Promise<unknown>(resolve => { b.addEventListener('close', e => { resolve(e.detail) }, { once: true }) })
      const raw = await rawPath(b)
      for (let seq = firstSeq; seq < firstSeq + 4; seq++) {
        raw.write({ type: FrameType.DATA, seq, payload: new Uint8Array(1000) })
      }
      expect(await closed).toMatchObject({ code: 'PROTOCOL_ERROR' })
      // nothing was ever acknowledged: the reader took nothing
      expect(raw.frames().filter(f => f.type === FrameType.ACK && f.nextExpected > 0)).toEqual([])
    }
  })

  it('keeps acknowledging while a reader keeps up, so an honest remote never overruns', async () => {
    const b = link('inbound', { maxMessageBytes: 1000, receiveWindowBytes: 3 * messageCost(1000) })
    const got: number[] = []
    b.addEventListener('message', e => { got.push(e.detail[0] ?? -1) })
    const raw = await rawPath(b)
    for (let seq = 0; seq < 10; seq++) {
      raw.write({ type: FrameType.DATA, seq, payload: new Uint8Array(1000).fill(seq) })
    }
    await expect.poll(() => got).toEqual(range(0, 9))
    await expect.poll(() => raw.frames().filter(f => f.type === FrameType.ACK).at(-1)).toEqual({ type: FrameType.ACK, nextExpected: 10 })
    expect(b.closed).toBe(false)
  })
})

/** A path to `victim` driven by hand: it says HELLO, then writes whatever frames it is given. */
async function rawPath (victim: LinkImpl): Promise<{ write(frame: Frame): void, frames(): Frame[] }> {
  const [mine, theirs] = await streamPair()
  const received: Frame[] = []
  const decoder = new FrameDecoder(1 << 20)
  mine.addEventListener('message', e => { received.push(...decoder.push(e.data)) })
  victim.attach(theirs, connection('relayed'))
  const write = (frame: Frame): void => {
    for (const chunk of encodeFrame(frame)) {
      mine.send(chunk)
    }
  }
  write({
    type: FrameType.HELLO,
    session: new Uint8Array(8).fill(7),
    base: 0,
    peerSession: new Uint8Array(8),
    nextExpected: 0,
    window: 1 << 20,
    maxMessageBytes: 1 << 20
  })
  await victim.ready()
  return { write, frames: () => received }
}
