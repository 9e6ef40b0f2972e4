/**
 * A path whose remote sends but never reads: the answers it provokes must not queue
 * without bound.
 */
import type { Connection, Stream } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { CONTROL_FRAMES_BURST, CONTROL_FRAMES_PER_SECOND, MAX_QUEUED_CONTROL_FRAMES, PATH_WRITE_STALL_MS, PING_INTERVAL_MS } from '../../constants.js'
import type { LifelineError } from '../../errors.js'
import { encodeFrame, FrameType } from './frame.js'
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
