import type { Connection } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import type { Multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { DIRECT_DIAL_ATTEMPTS, DIRECT_DIAL_STUCK_GRACE_MS } from '../../constants.js'
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
  return new DirectUpgrade({ dial, relays: [RELAY], remotePeerId: REMOTE, signal, log: logger('test') })
}

describe('DirectUpgrade', () => {
  it('dials the remote WebRTC address through the relay', async () => {
    const dialed: string[] = []
    const result = await upgrade(ma => {
      dialed.push(ma.toString())
      return Promise.resolve(connection)
    }).run()
    expect(result).toBe(connection)
    expect(dialed).toEqual([`${RELAY.text}/p2p-circuit/webrtc/p2p/${REMOTE}`])
  })

  it('abandons a dial the remote already saw succeed, and retries at once', async () => {
    let calls = 0
    const started = performance.now()
    const up = upgrade(async (ma, signal, onProgress) => {
      calls++
      if (calls === 1) {
        onProgress({ type: ANSWERED_PROGRESS })
        setTimeout(() => { up.remoteReportsUp() }, 50)
        return hangingDial(ma, signal)
      }
      return connection
    })
    expect(await up.run()).toBe(connection)
    const elapsed = performance.now() - started
    expect(calls).toBe(2)
    expect(elapsed).toBeGreaterThanOrEqual(DIRECT_DIAL_STUCK_GRACE_MS)
    expect(elapsed).toBeLessThan(DIRECT_DIAL_STUCK_GRACE_MS + 1000)
  })

  it('ignores a report that comes before the attempt has its SDP answer (an older attempt\'s connection)', async () => {
    const controller = new AbortController()
    const up = upgrade(async (ma, signal) => {
      setTimeout(() => { up.remoteReportsUp() }, 10)
      setTimeout(() => { controller.abort() }, DIRECT_DIAL_STUCK_GRACE_MS + 300)
      return hangingDial(ma, signal)
    }, controller.signal)
    const started = performance.now()
    expect(await up.run()).toBeUndefined()
    // not cut short by the report: it ran until the test's own abort
    expect(performance.now() - started).toBeGreaterThanOrEqual(DIRECT_DIAL_STUCK_GRACE_MS + 250)
  })

  it('gives up after its attempts fail, leaving the link relayed', async () => {
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
  })
})
