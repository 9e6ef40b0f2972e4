/**
 * A path whose remote sends but never reads: the answers it provokes must not queue
 * without bound.
 */
import type { Connection, Stream } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { multiaddr } from '@multiformats/multiaddr'
import type { Uint8ArrayList } from 'uint8arraylist'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  CONTROL_FRAMES_BURST,
  CONTROL_FRAMES_PER_SECOND,
  IDLE_PING_INTERVAL_MS,
  MAX_QUEUED_CONTROL_FRAMES,
  PATH_BUSY_MS,
  PATH_WRITE_BATCH_BYTES,
  PATH_WRITE_STALL_MS,
  PING_INTERVAL_MS,
  WEBRTC_DIRECT_CIRCUIT_WINDOW_BYTES
} from '../../constants.js'
import type { LifelineError } from '../../errors.js'
import { encodeFrame, FrameDecoder, FrameType, type Frame } from './frame.js'
import { PathChannel } from './path-channel.js'

/**
 * A stream whose remote never reads: every write is refused and 'drain' never comes.
 * Cast once: the path uses only these members of a libp2p Stream.
 */
function unreadStream (): Stream & EventTarget {
  const stream = Object.assign(new EventTarget(), {
    id: 's1',
    inactivityTimeout: 120_000,
    writableNeedsDrain: false,
    send (): boolean {
      stream.writableNeedsDrain = true
      return false
    },
    close: async (): Promise<void> => {},
    abort: (): void => {}
  })
  return stream as unknown as Stream & EventTarget
}

/** A stream that takes every write and hands each frame written to `onFrame`. */
function takingStream (id: string, onFrame: (frame: Frame, stream: Stream & EventTarget) => void): Stream & EventTarget {
  const decoder = new FrameDecoder(1024 * 1024)
  const stream = Object.assign(new EventTarget(), {
    id,
    inactivityTimeout: 120_000,
    writableNeedsDrain: false,
    send (chunk: Uint8Array): boolean {
      for (const frame of decoder.push(chunk)) {
        onFrame(frame, typed)
      }
      return true
    },
    close: async (): Promise<void> => {},
    abort: (): void => {}
  })
  const typed = stream as unknown as Stream & EventTarget
  return typed
}

const connection = {
  id: 'c1',
  direct: false,
  remoteAddr: multiaddr('/ip4/10.0.0.1/tcp/4001/ws/p2p/12D3KooWHFrmLWTTDD4NodngtRMEVYtDGW3mcpGXNzJZeRTMM4Aw/p2p-circuit')
} as unknown as Connection
const paths: PathChannel[] = []

afterEach(() => {
  for (const path of paths.splice(0)) {
    path.close()
  }
})

function openPath (stream: Stream, now: () => number = () => performance.now()): { path: PathChannel, closed: Array<LifelineError | undefined> } {
  const closed: Array<LifelineError | undefined> = []
  const path = new PathChannel({
    stream,
    connection,
    now,
    maxFrameBytes: 1024,
    log: logger('test:path'),
    events: { frame: () => {}, rtt: () => {}, close: (_p, err) => { closed.push(err) } }
  })
  paths.push(path)
  return { path, closed }
}

/** Deliver `count` pings, `clock` (if given) moving on by `gapMs` before each. */
function receivePings (stream: EventTarget, count: number, clock?: { now: number, gapMs: number }): void {
  for (let nonce = 1; nonce <= count; nonce++) {
    if (clock !== undefined) {
      clock.now += clock.gapMs
    }
    for (const chunk of encodeFrame({ type: FrameType.PING, nonce })) {
      stream.dispatchEvent(Object.assign(new Event('message'), { data: chunk }))
    }
  }
}

describe('PathChannel', () => {
  it('answers a ping flood it cannot send with one waiting pong, not a queue of them', () => {
    const stream = unreadStream()
    const clock = { now: 0, gapMs: 1000 / CONTROL_FRAMES_PER_SECOND }
    const { path, closed } = openPath(stream, () => clock.now)
    // were the pongs queued one by one, the control-frame cap would close the path
    receivePings(stream, 10 * MAX_QUEUED_CONTROL_FRAMES, clock)
    expect(path.closed).toBe(false)
    expect(closed).toEqual([])
  })

  it('closes a path whose remote sends control frames faster than CONTROL_FRAMES_PER_SECOND', () => {
    const stream = unreadStream()
    const clock = { now: 0, gapMs: 1000 / CONTROL_FRAMES_PER_SECOND / 2 }
    const { path, closed } = openPath(stream, () => clock.now)
    receivePings(stream, CONTROL_FRAMES_BURST * 3, clock)
    expect(path.closed).toBe(true)
    expect(closed[0]?.code).toBe('PROTOCOL_ERROR')
  })

  it('closes a path whose remote sends but has read nothing for PATH_WRITE_STALL_MS', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] })
    try {
      const stream = unreadStream()
      const { path, closed } = openPath(stream)
      for (let elapsed = 0; elapsed < PATH_WRITE_STALL_MS - 1000; elapsed += 1000) {
        // the remote keeps sending, which alone would keep the path alive
        receivePings(stream, 1)
        await vi.advanceTimersByTimeAsync(1000)
      }
      expect(path.closed).toBe(false)
      await vi.advanceTimersByTimeAsync(2000)
      expect(path.closed).toBe(true)
      expect(closed[0]?.code).toBe('TIMEOUT')
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('PathChannel liveness', () => {
  it('does not judge silence on a ping tick that came late, after a blocked event loop', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    try {
      const clock = { now: 0 }
      const { path } = openPath(unreadStream(), () => clock.now)
      // the event loop is blocked for 5 s: the next tick comes late, with the remote's
      // answers still unread behind it
      clock.now += 5000
      await vi.advanceTimersByTimeAsync(PING_INTERVAL_MS)
      expect(path.closed).toBe(false)
      // ticks on time that still see nothing: the remote is silent
      for (let i = 0; i < 6 && !path.closed; i++) {
        clock.now += PING_INTERVAL_MS
        await vi.advanceTimersByTimeAsync(PING_INTERVAL_MS)
      }
      expect(path.closed).toBe(true)
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('PathChannel keep-alives', () => {
  /** A stream that answers each ping with its pong; counts the pings. */
  function answeringStream (): { stream: Stream & EventTarget, pings: () => number } {
    let pings = 0
    const stream = takingStream('s2', (frame, self) => {
      if (frame.type === FrameType.PING) {
        pings++
        const pong = encodeFrame({ type: FrameType.PONG, nonce: frame.nonce })
        queueMicrotask(() => {
          for (const part of pong) {
            self.dispatchEvent(Object.assign(new Event('message'), { data: part }))
          }
        })
      }
    })
    return { stream, pings: () => pings }
  }

  it('pings a path that carries data every PING_INTERVAL_MS, an idle one every IDLE_PING_INTERVAL_MS', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    try {
      const clock = { now: 0 }
      const { stream, pings } = answeringStream()
      const { path, closed } = openPath(stream, () => clock.now)
      const step = async (ms: number, data: boolean): Promise<void> => {
        for (let t = 0; t < ms; t += PING_INTERVAL_MS) {
          if (data) {
            path.send({ type: FrameType.ACK, nextExpected: 0 })
          }
          clock.now += PING_INTERVAL_MS
          await vi.advanceTimersByTimeAsync(PING_INTERVAL_MS)
        }
      }
      // idle from the start: one ping on opening, then one per idle interval
      await step(IDLE_PING_INTERVAL_MS * 3, false)
      expect(pings()).toBe(1 + 3)
      const busyFrom = pings()
      await step(PING_INTERVAL_MS * 10, true)
      expect(pings() - busyFrom).toBe(10)
      // quiet again: the fast pace lasts PATH_BUSY_MS, then the idle one
      await step(PATH_BUSY_MS, false)
      const idleFrom = pings()
      await step(IDLE_PING_INTERVAL_MS * 2, false)
      expect(pings() - idleFrom).toBeLessThanOrEqual(2)
      expect(closed).toEqual([])
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('PathChannel send window', () => {
  /** A stream that records the sequence numbers of the DATA frames written to it. */
  function recordingStream (): { stream: Stream & EventTarget, data: number[] } {
    const data: number[] = []
    const stream = takingStream('s3', (frame) => {
      if (frame.type === FrameType.DATA) {
        data.push(frame.seq)
      }
    })
    return { stream, data }
  }

  function circuitThrough (relayLeg: string): Connection {
    return {
      id: `c-${relayLeg}`,
      direct: false,
      remoteAddr: multiaddr(`/ip4/10.0.0.1/${relayLeg}/p2p/12D3KooWHFrmLWTTDD4NodngtRMEVYtDGW3mcpGXNzJZeRTMM4Aw/p2p-circuit/p2p/12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq`)
    } as unknown as Connection
  }

  function openOn (conn: Connection, stream: Stream): PathChannel {
    const path = new PathChannel({
      stream,
      connection: conn,
      maxFrameBytes: 1024 * 1024,
      log: logger('test:path'),
      events: { frame: () => {}, rtt: () => {}, close: () => {} }
    })
    paths.push(path)
    return path
  }

  const CHUNK = 64 * 1024

  /** Queue `count` DATA frames of CHUNK bytes, then let the path write what it may. */
  async function sendChunks (path: PathChannel, count: number): Promise<void> {
    for (let seq = 0; seq < count; seq++) {
      path.send({ type: FrameType.DATA, seq, payload: new Uint8Array(CHUNK) })
    }
    await settle()
  }

  async function settle (): Promise<void> {
    await new Promise(resolve => setTimeout(resolve, 0))
  }

  it('keeps what a circuit over a WebRTC-Direct relay leg has unacknowledged within WEBRTC_DIRECT_CIRCUIT_WINDOW_BYTES', async () => {
    const { stream, data } = recordingStream()
    const path = openOn(circuitThrough('udp/4443/webrtc-direct/certhash/uEiDDq4_xNyDorZBH3TlGazyJdOWSwvo4PUo5YHFMrvDE8g'), stream)
    expect(path.sendWindowBytes).toBe(WEBRTC_DIRECT_CIRCUIT_WINDOW_BYTES)
    await sendChunks(path, 10)
    const fits = WEBRTC_DIRECT_CIRCUIT_WINDOW_BYTES / CHUNK
    expect(data).toEqual(Array.from({ length: fits }, (_, i) => i))
    // control frames are not held back by the window
    path.send({ type: FrameType.ACK, nextExpected: 0 })
    path.acked(2)
    await settle()
    expect(data).toEqual(Array.from({ length: fits + 2 }, (_, i) => i))
    path.acked(5)
    await settle()
    expect(data).toHaveLength(8)
    path.acked(8)
    await settle()
    expect(data).toHaveLength(10)
  })

  it('writes the frames that waited for a drain as one write, up to PATH_WRITE_BATCH_BYTES', async () => {
    const decoder = new FrameDecoder(1024 * 1024)
    /** Per write: its bytes and the DATA sequence numbers in it. */
    const writes: Array<{ bytes: number, seqs: number[] }> = []
    const stream = Object.assign(new EventTarget(), {
      id: 's4',
      inactivityTimeout: 120_000,
      writableNeedsDrain: false,
      send (data: Uint8Array | Uint8ArrayList): boolean {
        writes.push({ bytes: data.byteLength, seqs: decoder.push(data).flatMap(f => f.type === FrameType.DATA ? [f.seq] : []) })
        // full after every write, until the test drains it
        stream.writableNeedsDrain = true
        return false
      },
      close: async (): Promise<void> => {},
      abort: (): void => {}
    })
    const path = openOn(circuitThrough('tcp/443/tls/ws'), stream as unknown as Stream)
    // the path's first ping fills the stream: every frame after it waits
    const count = 2 * PATH_WRITE_BATCH_BYTES / CHUNK
    await sendChunks(path, count)
    expect(writes.flatMap(w => w.seqs)).toEqual([])
    for (let drains = 0; drains < 4; drains++) {
      stream.writableNeedsDrain = false
      stream.dispatchEvent(new Event('drain'))
      await settle()
    }
    const data = writes.filter(w => w.seqs.length > 0)
    expect(data.flatMap(w => w.seqs)).toEqual(Array.from({ length: count }, (_, i) => i))
    // a batch stops at the first frame that takes it to PATH_WRITE_BATCH_BYTES or past
    // (a DATA frame is its payload and 9 bytes: length, type, sequence number)
    const perBatch = Math.ceil(PATH_WRITE_BATCH_BYTES / (CHUNK + 9))
    expect(data.map(w => w.seqs.length)).toEqual([perBatch, count - perBatch])
    expect(data.every(w => w.bytes >= PATH_WRITE_BATCH_BYTES && w.bytes < PATH_WRITE_BATCH_BYTES + CHUNK + 16)).toBe(true)
  })

  it('sends everything at once on a circuit over WebSockets (the relay slows the sender itself)', async () => {
    const { stream, data } = recordingStream()
    const path = openOn(circuitThrough('tcp/443/tls/ws'), stream)
    expect(path.sendWindowBytes).toBe(Infinity)
    await sendChunks(path, 10)
    expect(data).toHaveLength(10)
  })
})
