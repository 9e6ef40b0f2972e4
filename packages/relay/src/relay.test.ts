/**
 * Two real libp2p peers talk through an in-process relay, the way Lifeline peers
 * use it as their data fallback.
 */
import './node-compat.js'
import { multiaddr } from '@multiformats/multiaddr'
import type { Libp2p } from 'libp2p'
import { randomBytes } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { RelayConfig } from './index.js'
import { ECHO, startEchoPeer } from '../test/hostile/clients.js'
import { RelayTestbed } from '../test/testbed.js'
import type { Stream } from '@libp2p/interface'

const MiB = 1024 * 1024
const CHUNK = 64 * 1024

const bed = new RelayTestbed()

beforeEach(async () => { await bed.setUp('lifeline-relay-data-') })
afterEach(async () => { await bed.tearDown() })

async function startRelay (config: Partial<RelayConfig> = {}): Promise<string> {
  const relay = await bed.startRelay({ ...config })
  const [addr] = relay.multiaddrs
  if (addr === undefined) {
    throw new Error('relay reported no address')
  }
  return addr
}

/** A peer reachable only through `relayAddr`, echoing every stream on ECHO. */
async function startPeer (relayAddr: string): Promise<Libp2p> {
  const peer = await startEchoPeer(relayAddr)
  bed.peers.push(peer)
  await expect.poll(() => peer.getMultiaddrs().some(ma => ma.toString().includes('/p2p-circuit'))).toBe(true)
  return peer
}

/** Sends `payload` with backpressure, closes the write side, returns everything read back. */
async function echo (stream: Stream, payload: Uint8Array): Promise<Uint8Array> {
  const receiving = (async () => {
    const chunks: Uint8Array[] = []
    for await (const chunk of stream) {
      chunks.push(chunk.subarray())
    }
    return Buffer.concat(chunks)
  })()
  const sending = (async () => {
    for (let offset = 0; offset < payload.length; offset += CHUNK) {
      if (!stream.send(payload.subarray(offset, offset + CHUNK))) {
        await stream.onDrain()
      }
    }
    await stream.close()
  })()
  // Promise.all watches both, so a reset that fails both sides leaves no unhandled rejection
  const [received] = await Promise.all([receiving, sending])
  return received
}

async function dialThroughRelay (from: Libp2p, to: Libp2p, relayAddr: string): Promise<Stream> {
  const target = multiaddr(`${relayAddr}/p2p-circuit/p2p/${to.peerId.toString()}`)
  return from.dialProtocol(target, ECHO, { runOnLimitedConnection: true })
}

describe('relay as a data fallback', () => {
  it('carries a 1 MiB echo intact over a circuit, with no data or duration limit', async () => {
    const relayAddr = await startRelay()
    const a = await startPeer(relayAddr)
    const b = await startPeer(relayAddr)

    const stream = await dialThroughRelay(a, b, relayAddr)
    const [connection] = a.getConnections(b.peerId)
    expect(connection?.remoteAddr.toString()).toContain('/p2p-circuit')
    // libp2p's defaults would cap this circuit at 128 KiB and 2 minutes
    expect(connection?.limits).toBeUndefined()

    const payload = randomBytes(MiB)
    const received = await echo(stream, payload)
    expect(received.length).toBe(payload.length)
    expect(Buffer.compare(received, payload)).toBe(0)
  })

  it('cuts a circuit at --max-circuit-bytes when the operator sets it', async () => {
    const relayAddr = await startRelay({ maxCircuitBytes: 256n * 1024n })
    const a = await startPeer(relayAddr)
    const b = await startPeer(relayAddr)

    const stream = await dialThroughRelay(a, b, relayAddr)
    // the client reports what remains after the handshakes on the circuit
    const remaining = a.getConnections(b.peerId)[0]?.limits?.bytes ?? 0n
    expect(remaining > 200n * 1024n && remaining <= 256n * 1024n, `remaining ${remaining} bytes`).toBe(true)
    // the relay resets both halves of the circuit once the budget is spent, so the
    // echo fails instead of bringing the whole MiB back
    await expect(echo(stream, randomBytes(MiB))).rejects.toBeTruthy()
  })

  it('tells clients about a --max-circuit-seconds limit', async () => {
    const relayAddr = await startRelay({ maxCircuitSeconds: 600 })
    const a = await startPeer(relayAddr)
    const b = await startPeer(relayAddr)

    await dialThroughRelay(a, b, relayAddr)
    const limits = a.getConnections(b.peerId)[0]?.limits
    expect(limits?.seconds).toBeDefined()
  })
})
