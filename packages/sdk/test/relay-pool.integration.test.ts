import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createPeer, type Link, type Peer, type PeerInit, type RelayStatus } from '../src/index.js'
import { startRelay, type RelayProcess } from './relay-process.js'
import { TestPeers } from './support.js'

const relays: RelayProcess[] = []
const peers = new TestPeers()

async function relaysUp (count: number, args: string[] = []): Promise<RelayProcess[]> {
  const started = await Promise.all(Array.from({ length: count }, async () => startRelay(args)))
  relays.push(...started)
  return started
}

async function startPeer (init: PeerInit): Promise<Peer> {
  return peers.start(init)
}

function relayState (peer: Peer, relay: RelayProcess): RelayStatus | undefined {
  return peer.status().relays.find(r => r.multiaddr === relay.multiaddr)
}

afterEach(async () => {
  await peers.stopAll()
  await Promise.all(relays.splice(0).map(async r => { await r.stop() }))
})

describe('the relay pool', () => {
  it('holds reservations on two of three relays and reports their expiry', async () => {
    const [r1, r2, r3] = await relaysUp(3)
    if (r1 === undefined || r2 === undefined || r3 === undefined) throw new Error('relays missing')
    const peer = await startPeer({ relays: [r1.multiaddr, r2.multiaddr, r3.multiaddr] })
    await expect.poll(() => peer.status().relays.map(r => r.state)).toEqual(['reserved', 'reserved', 'standby'])
    const reserved = relayState(peer, r1)
    expect(reserved?.reservationExpiresAt).toBeGreaterThan(Date.now() + 60_000)
    await expect.poll(() => relayState(peer, r1)?.rttMs).toBeGreaterThan(0)
    expect([...peer.status().addresses].sort()).toEqual([
      `${r1.multiaddr}/p2p-circuit/p2p/${peer.peerId}`,
      `${r2.multiaddr}/p2p-circuit/p2p/${peer.peerId}`
    ].sort())
  })

  it('replaces a relay that dies within 3 s, and its advertised address follows', async () => {
    const [r1, r2, r3] = await relaysUp(3)
    if (r1 === undefined || r2 === undefined || r3 === undefined) throw new Error('relays missing')
    const peer = await startPeer({ relays: [r1.multiaddr, r2.multiaddr, r3.multiaddr] })
    await expect.poll(() => relayState(peer, r2)?.state).toBe('reserved')
    const killed = Date.now()
    await r1.kill()
    await expect.poll(() => relayState(peer, r3)?.state, { interval: 50 }).toBe('reserved')
    const replacedMs = Date.now() - killed
    expect(replacedMs).toBeLessThan(3000)
    const dead = relayState(peer, r1)
    expect(dead?.state).toBe('down')
    expect(dead?.lastError).toBeDefined()
    expect(dead?.retryAt).toBeGreaterThan(killed)
    expect(peer.status().addresses.some(a => a.startsWith(r1.multiaddr))).toBe(false)
    expect(peer.status().addresses.some(a => a.startsWith(r3.multiaddr))).toBe(true)
  })

  it('reserves again after its only relay restarts', async () => {
    const [r1] = await relaysUp(1)
    if (r1 === undefined) throw new Error('relay missing')
    const peer = await startPeer({ relays: [r1.multiaddr] })
    await r1.kill()
    await expect.poll(() => peer.status().online).toBe(false)
    await r1.restart()
    await expect.poll(() => peer.status().online, { timeout: 20_000 }).toBe(true)
    expect(relayState(peer, r1)?.failures).toBe(0)
  })

  it('refreshes a reservation well before it expires', async () => {
    const [r1] = await relaysUp(1, ['--reservation-ttl', '6'])
    if (r1 === undefined) throw new Error('relay missing')
    const peer = await startPeer({ relays: [r1.multiaddr] })
    const first = relayState(peer, r1)?.reservationExpiresAt ?? 0
    expect(first).toBeGreaterThan(Date.now())
    await expect.poll(() => relayState(peer, r1)?.reservationExpiresAt ?? 0).toBeGreaterThan(first)
    expect(Date.now()).toBeLessThan(first)
    expect(relayState(peer, r1)?.state).toBe('reserved')
  })
})

describe('a relay that requires authorisation', () => {
  it('serves the peers it lists and refuses every other one', async () => {
    const listed = await createPeer({ relays: ['/ip4/127.0.0.1/tcp/1/ws/p2p/12D3KooWHFrmLWTTDD4NodngtRMEVYtDGW3mcpGXNzJZeRTMM4Aw'] })
    const file = join(mkdtempSync(join(tmpdir(), 'allow-')), 'peers.txt')
    writeFileSync(file, `# the only peer allowed\n${listed.peerId}\n`)
    const [relay] = await relaysUp(1, ['--allow-peers', file])
    if (relay === undefined) throw new Error('relay missing')
    const allowed = await startPeer({ relays: [relay.multiaddr], privateKey: listed.exportPrivateKey() })
    expect(allowed.peerId).toBe(listed.peerId)
    expect(relayState(allowed, relay)?.state).toBe('reserved')

    const stranger = await createPeer({ relays: [relay.multiaddr], allowPrivateAddresses: true, direct: false })
    peers.started.push(stranger)
    await stranger.start()
    await expect(stranger.online({ signal: AbortSignal.timeout(3000) })).rejects.toMatchObject({ code: 'RELAY_UNREACHABLE' })
    expect(relayState(stranger, relay)?.state).toBe('down')
    await expect(stranger.connect(allowed.peerId, { signal: AbortSignal.timeout(3000) })).rejects.toMatchObject({ code: 'RELAY_UNREACHABLE' })
  })
})

describe('links across relays', () => {
  async function pair (relayAddrs: string[]): Promise<{ a: Peer, b: Peer, link: Link, remote: Link }> {
    const a = await startPeer({ relays: relayAddrs })
    const b = await startPeer({ relays: relayAddrs })
    await expect.poll(() => b.status().relays.filter(r => r.state === 'reserved').length).toBe(relayAddrs.length)
    const incoming = new Promise<Link>(resolve => { b.addEventListener('link', e => { resolve(e.detail) }, { once: true }) })
    const link = await a.connect(b.peerId)
    return { a, b, link, remote: await incoming }
  }

  it('keeps a warm spare route through a second relay', async () => {
    const [r1, r2] = await relaysUp(2)
    if (r1 === undefined || r2 === undefined) throw new Error('relays missing')
    const { link } = await pair([r1.multiaddr, r2.multiaddr])
    await expect.poll(() => link.status().paths).toBe(2)
  })

  it('moves a relayed link to the other relay when the carrying relay dies, losing nothing', async () => {
    const all = await relaysUp(2)
    const { link, remote } = await pair(all.map(r => r.multiaddr))
    await expect.poll(() => link.status().paths).toBe(2)
    const arrivals: number[] = []
    const received: number[] = []
    remote.addEventListener('message', e => {
      received.push(Number(new TextDecoder().decode(e.detail)))
      arrivals.push(Date.now())
    })
    const total = 3000
    for (let i = 1; i <= total; i++) {
      await link.send(String(i))
      if (i === 1000) {
        const carrier = all.find(r => r.multiaddr.endsWith(link.status().relayPeerId ?? 'none'))
        expect(carrier).toBeDefined()
        await carrier?.kill()
      }
      if (i % 100 === 0) {
        await new Promise(resolve => setTimeout(resolve, 20))
      }
    }
    await expect.poll(() => received.length, { timeout: 10_000 }).toBe(total)
    expect(received).toEqual(Array.from({ length: total }, (_, i) => i + 1))
    const longestGap = Math.max(...arrivals.slice(1).map((t, i) => t - (arrivals[i] ?? t)))
    expect(longestGap).toBeLessThan(3000)
    expect(link.status().path).toBe('relayed')
  })
})
