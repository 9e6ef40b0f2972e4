/**
 * Either side restores a link. The scene is set so that only the side that accepted
 * the link can: A holds the one reservation R2 allows, B holds one on R1, so A reaches
 * B through R1 only, and B reaches A through R2 only. When R1 dies, A has no way left
 * to B (B cannot reserve on R2 either), and the link comes back only if B dials A.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { type Link, type Peer, type PeerInit } from '../src/index.js'
import { startRelay, type RelayProcess } from './relay-process.js'
import { TestPeers } from './support.js'

const relays: RelayProcess[] = []
const peers = new TestPeers()

async function startPeer (init: PeerInit): Promise<Peer> {
  return peers.start(init)
}

const peerIdOf = (relay: RelayProcess): string => relay.multiaddr.split('/p2p/')[1] ?? ''

function collect (link: Link): number[] {
  const received: number[] = []
  link.addEventListener('message', e => { received.push(Number(new TextDecoder().decode(e.detail))) })
  return received
}

afterEach(async () => {
  await peers.stopAll()
  await Promise.all(relays.splice(0).map(async r => { await r.stop() }))
})

describe('a link whose opener has no way back', () => {
  it('is restored by the side that accepted it, with every message in order', async () => {
    const r1 = await startRelay()
    relays.push(r1)
    const r2 = await startRelay(['--max-reservations', '1'])
    relays.push(r2)

    const a = await startPeer({ relays: [r2.multiaddr, r1.multiaddr], reservations: 1 })
    expect(a.status().relays.find(r => r.multiaddr === r2.multiaddr)?.state).toBe('reserved')
    const b = await startPeer({ relays: [r1.multiaddr, r2.multiaddr], reservations: 1 })
    expect(b.status().relays.find(r => r.multiaddr === r1.multiaddr)?.state).toBe('reserved')

    const incoming = new Promise<Link>(resolve => { b.addEventListener('link', e => { resolve(e.detail) }, { once: true }) })
    const link = await a.connect(b.peerId)
    const remote = await incoming
    expect(link.status().relayPeerId).toBe(peerIdOf(r1))
    const atB = collect(remote)
    const atA = collect(link)

    const total = 600
    for (let i = 1; i <= total; i++) {
      await link.send(String(i))
      await remote.send(String(i))
      if (i === 200) {
        await r1.kill()
        // the path through R1 is gone: no path at all, or already the one B restored
        // through R2 (a poll may miss the moment with none)
        await expect.poll(() => link.status().relayPeerId).not.toBe(peerIdOf(r1))
      }
    }

    await expect.poll(() => remote.status().relayPeerId, { timeout: 15_000 }).toBe(peerIdOf(r2))
    await expect.poll(() => atB.length, { timeout: 10_000 }).toBe(total)
    await expect.poll(() => atA.length, { timeout: 10_000 }).toBe(total)
    const inOrder = Array.from({ length: total }, (_, i) => i + 1)
    expect(atB).toEqual(inOrder)
    expect(atA).toEqual(inOrder)
    expect(link.status()).toMatchObject({ state: 'open', relayPeerId: peerIdOf(r2) })
    // the opener never got a reservation of B's to dial: B is still held off R2
    expect(b.status().relays.find(r => r.multiaddr === r2.multiaddr)?.state).not.toBe('reserved')
  })
})
