/**
 * The libp2p node under a Lifeline peer: WebSockets and WebRTC-Direct to reach relays,
 * Circuit Relay v2 for reservations and relayed connections, WebRTC between peers,
 * Noise and Yamux, identify and ping.
 */
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { identify, type Identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { FaultTolerance, type AbortOptions, type Connection, type PrivateKey } from '@libp2p/interface'
import { ping, type Ping } from '@libp2p/ping'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { createLibp2p, type Libp2p } from 'libp2p'
import type { Multiaddr } from '@multiformats/multiaddr'
import { INBOUND_CONNECTIONS_PER_SECOND, MAX_PENDING_INBOUND_CONNECTIONS, RELAY_PINGS_IN_FLIGHT } from '../../constants.js'

export type Libp2pNode = Libp2p<{ ping: Ping, identify: Identify, transports: TransportDialer }>

/** Dials one address with its transport, outside libp2p's per-peer dial queue (see relay/connect.ts). */
export interface TransportDialer {
  dialAddress(ma: Multiaddr, options: AbortOptions): Promise<Connection>
}

interface TransportDialerComponents {
  transportManager: { dial(ma: Multiaddr, options?: AbortOptions): Promise<Connection> }
}

export interface NodeOptions {
  privateKey: PrivateKey
  iceServers: RTCIceServer[]
  direct: boolean
  allowPrivateAddresses: boolean
}

/**
 * @libp2p/webrtc (WebRTC between peers, WebRTC-Direct to relays) is about a third of the
 * SDK's bytes and not needed for the first relayed message, so it is a chunk of its own
 * in a bundled page: createPeer() starts loading it at once (see loadWebRTC) and awaits it
 * here, while the page has already parsed and run the first chunk and key generation ran
 * beside the download. libp2p 3 takes its transports only at createLibp2p().
 */
let webRTCModule: Promise<typeof import('@libp2p/webrtc')> | undefined

/** Starts loading @libp2p/webrtc, once; a failed load is tried again on the next call. */
export async function loadWebRTC (): Promise<typeof import('@libp2p/webrtc')> {
  webRTCModule ??= import('@libp2p/webrtc').catch((err: unknown) => {
    webRTCModule = undefined
    throw err
  })
  return webRTCModule
}

export async function createNode (options: NodeOptions): Promise<Libp2pNode> {
  const { webRTC, webRTCDirect } = await loadWebRTC()
  // reservations are the relay pool's job (see relay/hop.ts); libp2p only listens for
  // WebRTC connections signalled through the relays
  const listen = options.direct ? ['/webrtc'] : []
  const node = await createLibp2p({
    privateKey: options.privateKey,
    start: false,
    addresses: { listen },
    // libp2p listens on a relay by itself when dialled through one it holds no
    // reservation of its own on; that must never stop the peer
    transportManager: { faultTolerance: FaultTolerance.NO_FATAL },
    // every relayed connection comes from its relay's address, so libp2p's per-host
    // limits are per relay here: see the constants
    connectionManager: {
      inboundConnectionThreshold: INBOUND_CONNECTIONS_PER_SECOND,
      maxIncomingPendingConnections: MAX_PENDING_INBOUND_CONNECTIONS
    },
    transports: [
      webSockets(),
      webRTCDirect({ rtcConfiguration: { iceServers: options.iceServers } }),
      // no public STUN servers unless configured: the upstream default contacts four
      webRTC({ rtcConfiguration: { iceServers: options.iceServers } }),
      circuitRelayTransport()
    ],
    // libp2p's connection monitor pings every connection every 10 s and aborts it when
    // one pong takes over 5 s: a relay connection or a circuit carrying a bulk transfer
    // on a loaded machine has its pong queued behind the data for that long, and the
    // abort tears down the reservation and every circuit on it (seen in the e2e health
    // test: relay connections and circuits aborted four times in a minute). Lifeline
    // pings its relays itself (relay/pool.ts, which counts forwarded data as life and
    // closes a relay connection it finds dead) and every path of a link (link/).
    connectionMonitor: { enabled: false },
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: options.allowPrivateAddresses
      ? { denyDialMultiaddr: () => false }
      : {},
    services: {
      // run by identifyRelaysOnly(), on relay connections alone
      identify: identify({ runOnConnectionOpen: false }),
      // the relay pool overlaps its pings to a slow relay: see RELAY_PINGS_IN_FLIGHT
      ping: ping({ maxOutboundStreams: RELAY_PINGS_IN_FLIGHT }),
      transports: (components: TransportDialerComponents): TransportDialer => ({
        dialAddress: async (ma, dialOptions) => components.transportManager.dial(ma, dialOptions)
      })
    }
  })
  identifyRelaysOnly(node)
  return node
}

/**
 * Identify runs on a connection to a relay (the relay learns our protocols, we learn its
 * addresses and protocols), not on circuits or WebRTC connections between two peers: a
 * Lifeline peer needs nothing from the other's identify, and on a new circuit the
 * exchange (a signed peer record to verify, peer store merges) competed with the
 * Noise handshake and the first message for the page's CPU (`pnpm bench` connect()
 * profile; the first message came 179 ms after connect() with it, 149 ms without).
 */
function identifyRelaysOnly (node: Libp2pNode): void {
  node.addEventListener('connection:open', (event) => {
    const connection = event.detail
    const between = connection.remoteAddr.getComponents().some(c => c.name === 'p2p-circuit' || c.name === 'webrtc')
    if (!between) {
      node.services.identify.identify(connection).catch(() => {})
    }
  })
}
