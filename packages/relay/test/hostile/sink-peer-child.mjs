// A peer in its own process that holds a reservation on the relay and reads every
// stream on SINK. The suite stops it with SIGSTOP to make a receiver that never
// reads: its TCP window closes and the relay must hold the sender back.
import '../../dist/node-compat.js'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { identify } from '@libp2p/identify'
import { webSockets } from '@libp2p/websockets'
import { createLibp2p } from 'libp2p'

const SINK = '/lifeline-test/sink/1.0.0'
const relayAddr = process.argv[2]
const node = await createLibp2p({
  addresses: { listen: [`${relayAddr}/p2p-circuit`] },
  transports: [webSockets(), circuitRelayTransport()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  connectionGater: { denyDialMultiaddr: () => false },
  services: { identify: identify() }
})
await node.handle(SINK, async stream => {
  // eslint-disable-next-line no-unused-vars
  for await (const _ of stream) { /* discard */ }
}, { runOnLimitedConnection: true })
while (!node.getMultiaddrs().some(ma => ma.toString().includes('/p2p-circuit'))) {
  await new Promise(resolve => setTimeout(resolve, 20))
}
process.on('disconnect', () => { process.exit(0) })
process.send({ type: 'ready', peerId: node.peerId.toString() })
