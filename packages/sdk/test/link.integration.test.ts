import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createPeer, isLifelineError, type Link, type Peer, type PeerInit } from '../src/index.js'
import { startRelay, type RelayProcess } from './relay-process.js'
import { codeOf, TestPeers } from './support.js'

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

let relay: RelayProcess
const peers = new TestPeers()

async function startPeer (init: Partial<PeerInit> = {}): Promise<Peer> {
  return peers.start({ relays: [relay.multiaddr], ...init })
}

async function nextLink (peer: Peer): Promise<Link> {
  return new Promise(resolve => {
    peer.addEventListener('link', evt => { resolve(evt.detail) }, { once: true })
  })
}


beforeAll(async () => {
  relay = await startRelay()
})

afterEach(async () => {
  await peers.stopAll()
})

afterAll(async () => {
  await relay.stop()
})

describe('links through a real relay process', () => {
  it('reports the relay reservation in status()', async () => {
    const peer = await startPeer()
    const status = peer.status()
    expect(status.online).toBe(true)
    expect(status.relays).toEqual([expect.objectContaining({ multiaddr: relay.multiaddr, state: 'reserved' })])
    expect(status.addresses.some(a => a.includes('/p2p-circuit'))).toBe(true)
  })

  it('carries messages both ways, in order, over the relay', async () => {
    const a = await startPeer()
    const b = await startPeer()
    const incoming = nextLink(b)
    const link = await a.connect(b.peerId)
    expect(link.path).toBe('relayed')
    const remote = await incoming
    expect(remote.remotePeerId).toBe(a.peerId)
    const atB: string[] = []
    const atA: string[] = []
    remote.addEventListener('message', e => { atB.push(text(e.detail)) })
    link.addEventListener('message', e => { atA.push(text(e.detail)) })
    for (let i = 1; i <= 500; i++) {
      await link.send(`a${i}`)
      await remote.send(`b${i}`)
    }
    await expect.poll(() => atB.length).toBe(500)
    await expect.poll(() => atA.length).toBe(500)
    expect(atB).toEqual(Array.from({ length: 500 }, (_, i) => `a${i + 1}`))
    expect(atA).toEqual(Array.from({ length: 500 }, (_, i) => `b${i + 1}`))
  })

  it('delivers a 5 MB message intact, beyond the 128 KiB default circuit cap', async () => {
    const a = await startPeer()
    const b = await startPeer()
    const incoming = nextLink(b)
    const link = await a.connect(b.peerId)
    const remote = await incoming
    const payload = new Uint8Array(5_000_000)
    for (let i = 0; i < payload.length; i++) {
      payload[i] = (i * 31) & 0xff
    }
    const received = new Promise<Uint8Array>(resolve => {
      remote.addEventListener('message', e => { resolve(e.detail) }, { once: true })
    })
    await link.send(payload)
    expect(Buffer.from(await received).equals(Buffer.from(payload))).toBe(true)
  })

  it('offers incoming messages as an async iterator', async () => {
    const a = await startPeer()
    const b = await startPeer()
    const incoming = nextLink(b)
    const link = await a.connect(b.peerId)
    const remote = await incoming
    const collected: string[] = []
    const reading = (async () => {
      for await (const message of remote) {
        collected.push(text(message))
        if (collected.length === 3) {
          break
        }
      }
    })()
    await link.send('one')
    await link.send('two')
    await link.send('three')
    await reading
    expect(collected).toEqual(['one', 'two', 'three'])
  })

  it('opens raw streams for bulk data on an application protocol', async () => {
    const a = await startPeer()
    const b = await startPeer()
    await b.handle('/test/echo/1', stream => {
      stream.addEventListener('message', e => { stream.send(e.data) })
      stream.addEventListener('remoteCloseWrite', () => { void stream.close() })
    })
    const link = await a.connect(b.peerId)
    const stream = await link.openStream('/test/echo/1')
    let echoed = 0
    stream.addEventListener('message', e => { echoed += e.data.byteLength })
    stream.send(new Uint8Array(300_000))
    await stream.close()
    await expect.poll(() => echoed).toBe(300_000)
    expect(await codeOf(link.openStream('/test/unknown/1'))).toBe('UNSUPPORTED_PROTOCOL')
  })

  it('closes the link on both sides', async () => {
    const a = await startPeer()
    const b = await startPeer()
    const incoming = nextLink(b)
    const link = await a.connect(b.peerId)
    const remote = await incoming
    await link.close()
    await expect.poll(() => remote.closed).toBe(true)
    expect(await codeOf(link.send('late'))).toBe('LINK_CLOSED')
    expect(b.links()).toEqual([])
  })
})

describe('bad input gets a clear, coded error', () => {
  it('rejects malformed peer IDs and relay addresses', async () => {
    const a = await startPeer()
    expect(await codeOf(a.connect('not-a-peer-id'))).toBe('INVALID_PEER_ID')
    expect(await codeOf(a.connect(a.peerId))).toBe('INVALID_PEER_ID')
    expect(await codeOf(createPeer({ relays: ['garbage'] }))).toBe('INVALID_MULTIADDR')
    expect(await codeOf(createPeer({ relays: [] }))).toBe('INVALID_CONFIG')
    expect(await codeOf(createPeer({ relays: [relay.multiaddr], maxMessageBytes: -1 }))).toBe('INVALID_CONFIG')
  })

  it('reports an unknown peer as PEER_UNREACHABLE', async () => {
    const a = await startPeer()
    const stranger = await createPeer({ relays: [relay.multiaddr] })
    expect(await codeOf(a.connect(stranger.peerId))).toBe('PEER_UNREACHABLE')
  })

  it('reports a peer that went offline as PEER_UNREACHABLE', async () => {
    const a = await startPeer()
    const gone = await startPeer()
    await gone.stop()
    const started = Date.now()
    let error: unknown
    try {
      await a.connect(gone.peerId)
    } catch (err) {
      error = err
    }
    expect(isLifelineError(error, 'PEER_UNREACHABLE'), String(error)).toBe(true)
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('reports an aborted connect as ABORTED and a message that is too large', async () => {
    const a = await startPeer({ maxMessageBytes: 1024 })
    const b = await startPeer()
    expect(await codeOf(a.connect(b.peerId, { signal: AbortSignal.abort() }))).toBe('ABORTED')
    const link = await a.connect(b.peerId)
    expect(await codeOf(link.send(new Uint8Array(1025)))).toBe('MESSAGE_TOO_LARGE')
  })

  it('reports a relay that is not there as RELAY_UNREACHABLE', async () => {
    const dead = relay.multiaddr.replace(/\/tcp\/\d+\//, '/tcp/1/')
    const peer = await createPeer({ relays: [dead], allowPrivateAddresses: true, direct: false })
    peers.started.push(peer)
    await peer.start()
    expect(await codeOf(peer.online({ signal: AbortSignal.timeout(3000) }))).toBe('RELAY_UNREACHABLE')
    expect(peer.status().relays[0]?.state).toBe('down')
  })

  it('requires start() before use', async () => {
    const peer = await createPeer({ relays: [relay.multiaddr] })
    expect(await codeOf(peer.connect(peer.peerId))).toBe('NOT_STARTED')
    expect(await codeOf(peer.online())).toBe('NOT_STARTED')
  })
})
