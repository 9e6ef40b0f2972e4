import '../node-compat.js'
import { yamux } from '@chainsafe/libp2p-yamux'
import { multiaddrConnectionPair, streamPair } from '@libp2p/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { CIRCUIT_WINDOW_BYTES as WINDOW } from '../constants.js'
import { splice, type CircuitLimits, type SpliceEvents } from './circuit.js'
import type { MultiaddrConnection, Stream } from '@libp2p/interface'

type Reason = Parameters<SpliceEvents['onClosed']>[0]

/** alice's stream to the relay's HOP end (relaySrc); the relay's STOP end (relayDst) to bob's. */
type Streams = [alice: Stream, relaySrc: Stream, relayDst: Stream, bob: Stream]
interface Circuit { alice: Stream, relaySrc: Stream, relayDst: Stream, bob: Stream, closed: Reason[], moved: () => number }

async function streamPairs (): Promise<Streams> {
  const [alice, relaySrc] = await streamPair()
  const [relayDst, bob] = await streamPair()
  return [alice, relaySrc, relayDst, bob]
}

function spliced ([alice, relaySrc, relayDst, bob]: Streams, limits: Partial<CircuitLimits> = {}, signal = new AbortController().signal): Circuit {
  const closed: Reason[] = []
  let moved = 0
  splice(relaySrc, relayDst, { maxBytes: undefined, maxDurationMs: undefined, ...limits }, signal, {
    onBytes: count => { moved += count },
    onClosed: reason => { closed.push(reason) }
  })
  return { alice, relaySrc, relayDst, bob, closed, moved: () => moved }
}

/** Bytes whose value depends on their offset, so a lost, doubled or reordered chunk shows. */
function pattern (length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length)
  for (let i = 0; i < length; i++) {
    bytes[i] = (i * 7 + seed) % 251
  }
  return bytes
}

/**
 * Until `stream` may be written again. Not `stream.onDrain()`: in @libp2p/utils
 * 7.4.1 its promise is never renewed, so after the first drain it resolves at once.
 */
async function drained (stream: Stream): Promise<void> {
  while (stream.writableNeedsDrain && stream.writeStatus === 'writable') {
    await new Promise(resolve => { stream.addEventListener('drain', resolve, { once: true }) })
  }
}

/** Sends `data` in chunks (of uneven sizes by default), waiting whenever the stream asks to. */
async function sendAll (stream: Stream, data: Uint8Array, chunk = 4093, progress = { handed: 0, waiting: false }): Promise<void> {
  for (let offset = 0; offset < data.byteLength; offset += chunk) {
    const piece = data.subarray(offset, offset + chunk)
    progress.handed += piece.byteLength
    if (!stream.send(piece)) {
      progress.waiting = true
      await drained(stream)
      progress.waiting = false
    }
  }
}

async function readAll (stream: Stream): Promise<Uint8Array> {
  const list = new Uint8ArrayList()
  for await (const chunk of stream) {
    list.append(chunk)
  }
  return list.subarray()
}

/** What has arrived on `stream` so far, without ending it. */
function received (stream: Stream): Uint8ArrayList {
  const list = new Uint8ArrayList()
  stream.addEventListener('message', evt => { list.append(evt.data) })
  return list
}

/** Byte for byte; `toEqual` on long typed arrays is slow and its diff unreadable. */
function expectSameBytes (actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.byteLength).toBe(expected.byteLength)
  expect(Buffer.compare(actual, expected)).toBe(0)
}

afterEach(() => { vi.useRealTimers() })

describe('a spliced circuit', () => {
  it('carries bytes both ways intact and in order, and closes as done once both sides have closed', async () => {
    const c = spliced(await streamPairs())
    const toBob = pattern(100_003, 1)
    const toAlice = pattern(60_001, 2)
    const [atBob, atAlice] = await Promise.all([
      readAll(c.bob),
      readAll(c.alice),
      sendAll(c.alice, toBob).then(async () => { await c.alice.close() }),
      sendAll(c.bob, toAlice, 1021).then(async () => { await c.bob.close() })
    ])
    expectSameBytes(atBob, toBob)
    expectSameBytes(atAlice, toAlice)
    await expect.poll(() => c.closed).toEqual(['done'])
    expect(c.moved()).toBe(160_004)
  })

  it('passes a half-close on: the other side reads to the end and may still answer', async () => {
    const c = spliced(await streamPairs())
    const atAlice = received(c.alice)
    const atBob = readAll(c.bob)
    await sendAll(c.alice, pattern(1000, 3))
    await c.alice.close()
    expect(await atBob).toEqual(pattern(1000, 3))
    expect(c.bob.writeStatus).toBe('writable')
    expect(c.closed).toEqual([])
    await sendAll(c.bob, pattern(500, 4))
    await expect.poll(() => atAlice.byteLength).toBe(500)
    expect(atAlice.subarray()).toEqual(pattern(500, 4))
    await c.bob.close()
    await expect.poll(() => c.closed).toEqual(['done'])
  })

  it.each(['alice', 'bob'] as const)('aborts the other side when %s aborts, and reports the circuit closed exactly once', async side => {
    const c = spliced(await streamPairs())
    const other = side === 'alice' ? c.bob : c.alice
    c[side].abort(new Error('peer gone'))
    await expect.poll(() => other.status).toBe('reset')
    expect([c.relaySrc.status, c.relayDst.status].sort()).toEqual(['aborted', 'reset'])
    expect(c.closed).toEqual(['error'])
  })

  it('cuts the circuit at its data limit, counting both directions together', async () => {
    const c = spliced(await streamPairs(), { maxBytes: 10n })
    const atBob = received(c.bob)
    const atAlice = received(c.alice)
    c.alice.send(pattern(6, 5))
    await expect.poll(() => atBob.byteLength).toBe(6)
    c.bob.send(pattern(4, 6))
    await expect.poll(() => atAlice.byteLength).toBe(4)
    expect(c.closed).toEqual([])
    c.alice.send(pattern(1, 7))
    await expect.poll(() => c.closed).toEqual(['data-limit'])
    await expect.poll(() => [c.alice.status, c.bob.status]).toEqual(['reset', 'reset'])
    expect(atBob.byteLength).toBe(6)
    expect(c.moved()).toBe(10)
  })

  it('closes with "shutdown" when the relay shuts down, resetting both peers', async () => {
    const shutdown = new AbortController()
    const c = spliced(await streamPairs(), {}, shutdown.signal)
    shutdown.abort()
    expect(c.closed).toEqual(['shutdown'])
    await expect.poll(() => [c.alice.status, c.bob.status]).toEqual(['reset', 'reset'])
  })

  // The signal's 'abort' event has fired already: the splice must look at it.
  it('closes at once with "shutdown" when spliced after the relay began shutting down', async () => {
    const c = spliced(await streamPairs(), {}, AbortSignal.abort())
    expect(c.closed).toEqual(['shutdown'])
  })

  it('cuts the circuit at its duration limit, and not a millisecond before', async () => {
    const streams = await streamPairs()
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const c = spliced(streams, { maxDurationMs: 60_000 })
    vi.advanceTimersByTime(59_999)
    expect(c.closed).toEqual([])
    vi.advanceTimersByTime(1)
    expect(c.closed).toEqual(['duration-limit'])
    vi.useRealTimers()
    await expect.poll(() => [c.alice.status, c.bob.status]).toEqual(['reset', 'reset'])
  })

  it('clears its duration timer when it closes first', async () => {
    const streams = await streamPairs()
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const c = spliced(streams, { maxDurationMs: 60_000 })
    expect(vi.getTimerCount()).toBe(1)
    c.alice.abort(new Error('peer gone'))
    await expect.poll(() => c.closed).toEqual(['error'])
    expect(vi.getTimerCount()).toBe(0)
  })
})

/**
 * Two Yamux streams over an in-memory connection, the relay's end set up as relay.ts
 * does. Not `streamPair`: its mock muxer ignores a pause (it pauses a queue its
 * sender never uses), while a paused Yamux stream stops granting window.
 */
async function yamuxPair (relay: 'outbound' | 'inbound', connection: { capacity?: number } = {}): Promise<{ streams: [Stream, Stream], relayConnection: MultiaddrConnection }> {
  const [outbound, inbound] = multiaddrConnectionPair(connection)
  const window = { initialStreamWindowSize: WINDOW, maxStreamWindowSize: WINDOW }
  // no maxWriteBufferLength: were the relay to buffer, the test should see it, not an abort
  const relayMuxers = yamux({ enableKeepAlive: false, streamOptions: { ...window, maxReadBufferLength: WINDOW } })()
  const peerMuxers = yamux({ enableKeepAlive: false, streamOptions: window })()
  const remote = (relay === 'inbound' ? relayMuxers : peerMuxers).createStreamMuxer(inbound)
  const accepted = new Promise<Stream>(resolve => { remote.addEventListener('stream', evt => { resolve(evt.detail) }, { once: true }) })
  const stream = await (relay === 'outbound' ? relayMuxers : peerMuxers).createStreamMuxer(outbound).createStream()
  return { streams: [stream, await accepted], relayConnection: relay === 'inbound' ? inbound : outbound }
}

/**
 * Bob paused, alice trying to send 16 MiB. `settled` waits until alice is stuck and
 * every byte that left her is in the relay or in bob (or the circuit closed).
 */
async function stalledCircuit (destination: { capacity?: number } = {}): Promise<Circuit & { data: Uint8Array, left: () => number, mostHeld: () => number, settled: () => Promise<void>, sending: Promise<void> }> {
  const { streams: [alice, relaySrc], relayConnection: fromAlice } = await yamuxPair('inbound')
  const { streams: [relayDst, bob] } = await yamuxPair('outbound', destination)
  const c = spliced([alice, relaySrc, relayDst, bob])
  bob.pause()
  // sampled after every arrival from alice: the relay's buffers grow only then
  const held = (): number => relaySrc.readBufferLength + relayDst.writeBufferLength
  let mostHeld = 0
  fromAlice.addEventListener('message', () => { mostHeld = Math.max(mostHeld, held()) })
  const data = pattern(16 * 1024 * 1024, 8)
  const progress = { handed: 0, waiting: false }
  const sending = sendAll(alice, data, 64 * 1024, progress).then(async () => { await alice.close() })
  const left = (): number => progress.handed - alice.writeBufferLength
  const settled = async (): Promise<void> => {
    await expect.poll(() => c.closed.length > 0 || (progress.waiting && left() === held() + bob.readBufferLength), { timeout: 10_000 }).toBe(true)
  }
  return { ...c, data, left, mostHeld: () => mostHeld, settled, sending }
}

describe('backpressure through a spliced circuit', () => {
  // While bob reads nothing the relay holds at most two windows: relaySrc's read buffer
  // no more than the window it granted alice (none while paused), relayDst's write
  // buffer no more than the one message whose send was refused, itself at most what
  // relaySrc held. The rest waits in alice's write buffer or in bob (one window).
  const BOUND = 2 * WINDOW

  it('pauses the sending side instead of buffering when the far reader never reads, and delivers everything once it does', async () => {
    const c = await stalledCircuit()
    await c.settled()
    expect(c.closed).toEqual([])
    expect(c.mostHeld()).toBeLessThanOrEqual(BOUND)
    expect(c.relaySrc.readStatus).toBe('paused')
    expect(c.bob.readBufferLength).toBe(WINDOW)
    expect(c.left()).toBeLessThanOrEqual(WINDOW + BOUND)
    const atBob = readAll(c.bob)
    c.bob.resume()
    await c.sending
    expectSameBytes(await atBob, c.data)
    expect(c.mostHeld()).toBeLessThanOrEqual(BOUND)
    await c.bob.close()
    await expect.poll(() => c.closed).toEqual(['done'])
  })

  // Two ways this once failed: resume() dispatches the read buffer, whose refused
  // send pauses `from` again before resume() tells Yamux to grant window (so Yamux
  // kept granting to a 'paused' stream until its read buffer passed its cap); and
  // resuming on every 'drain' while `to` still held a backlog added a window to it
  // each time, past maxWriteBufferLength.
  it('keeps holding the sender back when the far reader reads one more window and pauses again', async () => {
    // a destination connection asking for a drain after every frame, as a slow link does
    const c = await stalledCircuit({ capacity: 1 })
    await c.settled()
    c.bob.resume()
    c.bob.pause()
    await expect.poll(() => c.closed.length > 0 || c.bob.readBufferLength === 2 * WINDOW).toBe(true)
    await c.settled()
    expect(c.closed).toEqual([])
    expect(c.mostHeld()).toBeLessThanOrEqual(BOUND)
    expect(c.relaySrc.readStatus).toBe('paused')
  })
})
