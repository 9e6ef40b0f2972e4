/**
 * A libp2p node that does one job: serve Circuit Relay v2 over WebSockets, so
 * browser peers can always reach each other through it.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { circuitRelayServer } from '@libp2p/circuit-relay-v2'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { webSockets } from '@libp2p/websockets'
import { createLibp2p } from 'libp2p'
import { isIPv6 } from 'node:net'
import {
  INBOUND_CONNECTION_THRESHOLD, LOG_NAMESPACE, MAX_CONNECTIONS, MAX_INCOMING_PENDING_CONNECTIONS
} from './constants.js'
import { loadAllowlist } from './allowlist.js'
import { loadOrCreateKey } from './key.js'
import { circuitRelayServerInit } from './server-init.js'
import type { RelayConfig } from './config.js'

export interface Relay {
  /** The relay's peer ID, stable as long as the key file is kept. */
  peerId: string
  /**
   * Full multiaddrs peers dial, `/ip4/H/tcp/N/ws/p2p/<peerId>`, with the real port
   * when port 0 was asked for; the announce addresses instead when any were given.
   */
  multiaddrs: string[]
  /** True when this start created the key file. */
  keyCreated: boolean
  /** Closes every connection and the listener. */
  stop(): Promise<void>
}

/**
 * @throws KeyFileError (code `KEY_FILE_INVALID`) when the key file cannot be read,
 * created or parsed; errors from libp2p (such as the port being taken) pass through
 */
export async function createRelay (config: RelayConfig): Promise<Relay> {
  const { privateKey, created } = await loadOrCreateKey(config.keyFile)
  const allowed = config.allowPeersFile === undefined ? undefined : await loadAllowlist(config.allowPeersFile)
  const ipFamily = isIPv6(config.host) ? 'ip6' : 'ip4'

  const node = await createLibp2p({
    privateKey,
    addresses: {
      listen: [`/${ipFamily}/${config.host}/tcp/${config.port}/ws`],
      announce: config.announce
    },
    transports: [webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: {
      maxConnections: MAX_CONNECTIONS,
      inboundConnectionThreshold: INBOUND_CONNECTION_THRESHOLD,
      maxIncomingPendingConnections: MAX_INCOMING_PENDING_CONNECTIONS
    },
    // Peers on private networks (a LAN, a test machine) are legitimate users of a relay
    connectionGater: {
      denyDialMultiaddr: () => false,
      // the remote's identity is proven by Noise by now; unlisted peers get nothing
      denyInboundEncryptedConnection: (peer) => allowed !== undefined && !allowed.has(peer.toString())
    },
    services: {
      identify: identify(),
      ping: ping(),
      relay: circuitRelayServer(circuitRelayServerInit(config))
    }
  })

  const log = node.logger.forComponent(LOG_NAMESPACE)
  node.services.relay.addEventListener('relay:reservation', event => {
    log('reservation for %a, %d held', event.detail.addr, node.services.relay.reservations.size)
  })
  node.addEventListener('peer:connect', event => {
    log.trace('peer %p connected, %d connections', event.detail, node.getConnections().length)
  })

  const multiaddrs = node.getMultiaddrs().map(ma => ma.toString())
  log('relay %p listening on %s', node.peerId, multiaddrs.join(' '))

  return {
    peerId: node.peerId.toString(),
    multiaddrs,
    keyCreated: created,
    stop: async () => {
      await node.stop()
      log('relay stopped')
    }
  }
}
