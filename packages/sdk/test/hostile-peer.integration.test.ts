import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { identify } from '@libp2p/identify'
import { webSockets } from '@libp2p/websockets'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPeer, LINK_PROTOCOL, type Link, type Peer } from '../src/index.js'
import { startRelay, type RelayProcess } from './relay-process.js'

let relay: RelayProcess
let target: Peer
const hostiles: Libp2p[] = []
const incoming: Link[] = []

beforeAll(async () => {
  relay = await startRelay()
  target = await createPeer({ relays: [relay.multiaddr], allowPrivateAddresses: true, direct: false })
  target.addEventListener('link', e => { incoming.push(e.detail) })
  await target.start()
  await target.online()
})

afterAll(async () => {
  await Promise.all(hostiles.map(async h => { await h.stop() }))
  await target.stop()
  await relay.stop()
})

/** A fresh raw libp2p peer that opens the link protocol and writes `bytes` on it. */
async function sendRaw (bytes: Uint8Array): Promise<{ closed: Promise<void> }> {
  const hostile = await createLibp2p({
    transports: [webSockets(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: { denyDialMultiaddr: () => false },
    services: { identify: identify() }
  })
  hostiles.push(hostile)
  const stream = await hostile.dialProtocol(multiaddr(`${relay.multiaddr}/p2p-circuit/p2p/${target.peerId}`), LINK_PROTOCOL, {
    runOnLimitedConnection: true
  })
  const closed = new Promise<void>(resolve => {
    stream.addEventListener('close', () => { resolve() }, { once: true })
  })
  stream.send(bytes)
  return { closed }
}

describe('a hostile peer on the link protocol', () => {
  it('gets its garbled stream closed, and honest links keep working', async () => {
    const garbage = await sendRaw(new Uint8Array([0, 0, 0, 5, 99, 1, 2, 3, 4]))
    await garbage.closed
    const oversized = await sendRaw(new Uint8Array([0x7f, 0xff, 0xff, 0xff, 2]))
    await oversized.closed
    await expect.poll(() => target.links().length).toBe(0)

    const honest = await createPeer({ relays: [relay.multiaddr], allowPrivateAddresses: true, direct: false })
    await honest.start()
    try {
      await honest.online()
      const link = await honest.connect(target.peerId)
      const received: string[] = []
      await expect.poll(() => incoming.find(l => l.remotePeerId === honest.peerId)).toBeDefined()
      incoming.find(l => l.remotePeerId === honest.peerId)?.addEventListener('message', e => {
        received.push(new TextDecoder().decode(e.detail))
      })
      await link.send('still here')
      await expect.poll(() => received).toEqual(['still here'])
      expect(incoming.map(l => l.remotePeerId)).toEqual([honest.peerId])
    } finally {
      await honest.stop()
    }
  })
})
