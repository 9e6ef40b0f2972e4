/**
 * A relay listed with several addresses is reached over whichever answers (Happy
 * Eyeballs, relay/connect.ts), against a real relay process. The address tried first
 * leads to a socket that accepts and then says nothing, as a middlebox that swallows
 * a transport does: waiting for it would stall the peer until the relay dial timeout.
 */
import { createServer, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { startRelay, type RelayProcess } from './relay-process.js'
import { TestPeers } from './support.js'

const peers = new TestPeers()
const relays: RelayProcess[] = []
const blackholes: Server[] = []
const held: Socket[] = []

afterEach(async () => {
  await peers.stopAll()
  await Promise.all(relays.splice(0).map(async r => { await r.stop() }))
  held.splice(0).forEach(s => s.destroy())
  await Promise.all(blackholes.splice(0).map(async s => { await new Promise(resolve => s.close(resolve)) }))
})

/** A TCP port on loopback that accepts connections and never answers. */
async function blackhole (): Promise<number> {
  const server = createServer(socket => { held.push(socket) })
  blackholes.push(server)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') {
    throw new Error('no port')
  }
  return address.port
}

describe('a relay with several addresses', () => {
  it('is held over the address that answers while the first one stays silent', async () => {
    const relay = await startRelay()
    relays.push(relay)
    const relayId = relay.multiaddr.split('/p2p/')[1] ?? ''
    const silent = `/ip4/127.0.0.1/tcp/${await blackhole()}/ws/p2p/${relayId}`

    const peer = await peers.start({ relays: [silent, relay.multiaddr] })

    const [status] = peer.status().relays
    expect(status).toMatchObject({ state: 'reserved', multiaddr: relay.multiaddr, multiaddrs: [silent, relay.multiaddr], transport: 'ws' })
    // one relay with two addresses, not two relays
    expect(peer.status().relays).toHaveLength(1)
    // the silent address was tried first and left hanging: the second did not wait for it to fail
    expect(held.length).toBeGreaterThan(0)
  })
})
