/**
 * The WebRTC-Direct port under attack, from loopback: junk datagrams and STUN
 * binding requests that each open an ICE session with a fresh ufrag (what makes
 * @libp2p/webrtc allocate an RTCPeerConnection). Attackers send from 127.0.0.2 and
 * 127.0.0.3, the legitimate peer from 127.0.0.1. Bounded in count; no assertion
 * depends on how fast the machine is.
 */
import '../../src/node-compat.js'
import { multiaddr } from '@multiformats/multiaddr'
import { createSocket, type Socket } from 'node:dgram'
import { randomBytes } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { RelayTestbed } from '../testbed.js'
import { freshUfrag, startWebRtcDirectPeer, stunBindingRequest } from '../webrtc-direct-clients.js'
import { waitForReservation } from './clients.js'

const ATTACKERS = ['127.0.0.2', '127.0.0.3']
const JUNK_DATAGRAMS = 500
const STUN_SESSIONS_PER_ATTACKER = 150
/** Datagrams sent before yielding to the event loop, so the relay reads while the flood goes on. */
const BATCH = 25
const MAX_PENDING_PER_SOURCE = 4
/** Below two attackers' worth of pending sessions, so the global cap is reached too. */
const MAX_PENDING = 6
/**
 * Short, so that the sessions the flood got admitted end within the test; what is
 * asserted is that they end and are counted, not when.
 */
const HANDSHAKE_TIMEOUT_MS = 1_000

const bed = new RelayTestbed()
const sockets: Socket[] = []

beforeEach(async () => { await bed.setUp('lifeline-relay-webrtc-hostile-') })
afterEach(async () => {
  for (const socket of sockets.splice(0)) {
    socket.close()
  }
  await bed.tearDown()
})

async function udpFrom (address: string): Promise<Socket> {
  const socket = createSocket('udp4')
  sockets.push(socket)
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject)
    socket.bind(0, address, () => { resolve() })
  })
  return socket
}

async function send (socket: Socket, port: number, datagram: Buffer): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    socket.send(datagram, port, '127.0.0.1', err => {
      if (err === null) {
        resolve()
      } else {
        reject(err)
      }
    })
  })
}

describe('WebRTC-Direct under attack', () => {
  it('survives junk datagrams and a flood of fresh STUN sessions within its caps, and still serves a legitimate peer', async () => {
    const relay = await bed.startRelay({
      webrtcDirectPort: 0,
      maxPendingPerSource: MAX_PENDING_PER_SOURCE,
      maxPendingConnections: MAX_PENDING,
      handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS
    })
    const addr = relay.multiaddrs.find(ma => ma.includes('/webrtc-direct/')) ?? ''
    const port = Number(/\/udp\/(\d+)\//.exec(addr)?.[1])
    let maxPending = 0
    const sampler = setInterval(() => { maxPending = Math.max(maxPending, relay.stats().pending) }, 1)

    try {
      const attackers = await Promise.all(ATTACKERS.map(udpFrom))
      for (let i = 0; i < JUNK_DATAGRAMS; i++) {
        await send(attackers[i % attackers.length] as Socket, port, randomBytes(1 + (i % 1200)))
        if (i % BATCH === 0) {
          await new Promise(resolve => setImmediate(resolve))
        }
      }
      for (let i = 0; i < STUN_SESSIONS_PER_ATTACKER; i++) {
        for (const attacker of attackers) {
          await send(attacker, port, stunBindingRequest(freshUfrag()))
        }
        if (i % BATCH === 0) {
          await new Promise(resolve => setImmediate(resolve))
        }
      }
      // every session was admitted or refused, by a cap the relay names
      const counters = (): Record<string, number | undefined> => relay.stats().counters
      await expect.poll(() => (counters()['refused-pending-per-source'] ?? 0) + (counters()['refused-pending-total'] ?? 0)).toBeGreaterThan(0)
      // the admitted ones end at the deadline, and the relay holds nothing for them
      await expect.poll(() => relay.stats().pending).toBe(0)
      await expect.poll(() => relay.stats().connections).toBe(0)
      expect(counters()['handshake-timeout']).toBeGreaterThan(0)
      expect(counters()['handshake-timeout']).toBeLessThanOrEqual(ATTACKERS.length * STUN_SESSIONS_PER_ATTACKER)
      expect(maxPending).toBeLessThanOrEqual(MAX_PENDING)
      expect(maxPending).toBeGreaterThan(0)
    } finally {
      clearInterval(sampler)
    }

    // the relay is alive and serves a peer from another source
    const peer = await startWebRtcDirectPeer(addr)
    bed.peers.push(peer)
    await waitForReservation(peer, AbortSignal.timeout(20_000))
    await peer.dial(multiaddr(addr), { signal: AbortSignal.timeout(20_000) })
    expect(relay.stats().reservations).toBe(1)
    expect(relay.stats().counters['connections-accepted-webrtc-direct']).toBe(1)
  })
})
