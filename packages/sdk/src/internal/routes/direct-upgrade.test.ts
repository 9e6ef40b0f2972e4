import type { Connection } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import type { Multiaddr } from '@multiformats/multiaddr'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { DIRECT_DIAL_ATTEMPT_TIMEOUT_MS, DIRECT_DIAL_ATTEMPTS, DIRECT_DIAL_STUCK_GRACE_MS } from '../../constants.js'
import { parseRelayAddress } from '../util/parse.js'
import { ANSWERED_PROGRESS, DirectUpgrade } from './direct-upgrade.js'

const RELAY = parseRelayAddress('/ip4/10.0.0.1/tcp/4001/ws/p2p/12D3KooWHFrmLWTTDD4NodngtRMEVYtDGW3mcpGXNzJZeRTMM4Aw')
const REMOTE = '12D3KooWRvKxy16gGU3gmxRSXoaY8xqWEGEvASgS43gR1BSxs4dk'
const connection = { id: 'direct' } as unknown as Connection

/** A dial that never finishes by itself, like the upstream hang; it ends only when aborted. */
async function hangingDial (_ma: Multiaddr, signal: AbortSignal): Promise<Connection> {
  return new Promise((_resolve, reject) => {
    signal.addEventListener('abort', () => { reject(new Error('aborted')) }, { once: true })
  })
}

type Dial = (ma: Multiaddr, signal: AbortSignal, onProgress: (event: { type: string }) => void) => Promise<Connection>

function upgrade (dial: Dial, signal = new AbortController().signal): DirectUpgrade {
  return new DirectUpgrade({ dial, relays: [RELAY], remotePeerId: REMOTE, signal, now: () => Date.now(), log: logger('test') })
}

describe('DirectUpgrade', () => {
  beforeEach(() => { vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] }) })
  afterEach(() => { vi.useRealTimers() })

  it('dials the remote WebRTC address through the relay', async () => {
    const dialed: string[] = []
    const result = await upgrade(ma => {
      dialed.push(ma.toString())
      return Promise.resolve(connection)
    }).run()
    expect(result).toBe(connection)
    expect(dialed).toEqual([`${RELAY.text}/p2p-circuit/webrtc/p2p/${REMOTE}`])
  })

  it('abandons a dial the remote already saw succeed after the grace, and retries at once', async () => {
    let calls = 0
    const up = upgrade(async (ma, signal, onProgress) => {
      calls++
      if (calls === 1) {
        onProgress({ type: ANSWERED_PROGRESS })
        setTimeout(() => { up.remoteReportsUp() }, 50)
        return hangingDial(ma, signal)
      }
      return connection
    })
    const running = up.run()
    await vi.advanceTimersByTimeAsync(50 + DIRECT_DIAL_STUCK_GRACE_MS - 1)
    expect(calls).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(calls).toBe(2)
    expect(await running).toBe(connection)
  })

  it('ignores a report that comes before the attempt has its SDP answer (an older attempt\'s connection)', async () => {
    let calls = 0
    const up = upgrade(async (ma, signal) => {
      calls++
      if (calls === 1) {
        setTimeout(() => { up.remoteReportsUp() }, 10)
        return hangingDial(ma, signal)
      }
      return connection
    })
    const running = up.run()
    // not cut short by the report: the attempt runs until its own deadline
    await vi.advanceTimersByTimeAsync(DIRECT_DIAL_STUCK_GRACE_MS * 2)
    expect(calls).toBe(1)
    await vi.advanceTimersByTimeAsync(DIRECT_DIAL_ATTEMPT_TIMEOUT_MS)
    expect(calls).toBe(2)
    expect(await running).toBe(connection)
  })

  it('gives each attempt its own deadline, then gives up, leaving the link relayed', async () => {
    let calls = 0
    const running = upgrade(async (ma, signal) => {
      calls++
      return hangingDial(ma, signal)
    }).run()
    for (let i = 1; i <= DIRECT_DIAL_ATTEMPTS; i++) {
      expect(calls).toBe(i)
      await vi.advanceTimersByTimeAsync(DIRECT_DIAL_ATTEMPT_TIMEOUT_MS)
    }
    expect(await running).toBeUndefined()
    expect(calls).toBe(DIRECT_DIAL_ATTEMPTS)
  })

  it('gives up after its attempts fail at once', async () => {
    let calls = 0
    const result = await upgrade(() => {
      calls++
      return Promise.reject(new Error('ICE failed'))
    }).run()
    expect(result).toBeUndefined()
    expect(calls).toBe(DIRECT_DIAL_ATTEMPTS)
  })

  it('stops at once when its signal aborts', async () => {
    const controller = new AbortController()
    const running = upgrade(hangingDial, controller.signal).run()
    controller.abort()
    expect(await running).toBeUndefined()
    expect(vi.getTimerCount()).toBe(0)
  })
})
