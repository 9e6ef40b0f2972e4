/**
 * The baseline of `pnpm bench:relay`: a stock js-libp2p Circuit Relay v2 server,
 * configured the way its documentation suggests for a dedicated relay, with only
 * the caps the bench would otherwise hit raised. It has the same services as
 * lifeline-relay (identify and ping), so both answer the same protocols.
 *
 *   node --experimental-websocket stock-relay.js --max-reservations N --max-connections N
 *
 * Like lifeline-relay it prints its multiaddrs on stdout, one a line, and stops on
 * SIGINT or SIGTERM.
 */
import 'core-js/actual/promise/with-resolvers.js'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { circuitRelayServer } from '@libp2p/circuit-relay-v2'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { webSockets } from '@libp2p/websockets'
import { createLibp2p } from 'libp2p'
import { parseArgs } from 'node:util'
import { UNLIMITED_RATE } from './constants.js'

function positive (text: string | undefined, name: string): number {
  const value = Number(text)
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new Error(`--${name} must be a positive integer, got ${text ?? 'nothing'}`)
  }
  return value
}

const { values } = parseArgs({
  options: {
    'max-reservations': { type: 'string' },
    'max-connections': { type: 'string' }
  }
})
const maxReservations = positive(values['max-reservations'], 'max-reservations')
const maxConnections = positive(values['max-connections'], 'max-connections')

const node = await createLibp2p({
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0/ws'] },
  transports: [webSockets()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  connectionManager: {
    // defaults: 300 connections, 10 pending and 5 new a second per host; every bench
    // client dials from 127.0.0.1, so these are what lifeline-relay's per-IP flags raise
    maxConnections,
    maxIncomingPendingConnections: maxConnections,
    inboundConnectionThreshold: UNLIMITED_RATE
  },
  services: {
    identify: identify(),
    ping: ping(),
    relay: circuitRelayServer({
      // applyDefaultLimit: false lifts libp2p's 2 min / 128 KiB cap per circuit, as
      // lifeline-relay has none by default
      reservations: { maxReservations, applyDefaultLimit: false }
    })
  }
})

let stopping = false
const shutdown = (): void => {
  if (stopping) {
    process.exit(1)
  }
  stopping = true
  const stop = async (): Promise<void> => { await node.stop() }
  stop().then(() => { process.exit(0) }, () => { process.exit(1) })
}
process.on('SIGINT', shutdown)
process.on('SIGTERM', shutdown)

process.stdout.write(node.getMultiaddrs().map(ma => `${ma.toString()}\n`).join(''))
