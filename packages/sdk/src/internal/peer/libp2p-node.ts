/**
 * The libp2p node under a Lifeline peer: WebSockets and WebTransport to reach relays,
 * Circuit Relay v2 for reservations and relayed connections, WebRTC between peers,
 * Noise and Yamux, identify and ping.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { identify } from '@libp2p/identify'
import { FaultTolerance, type PrivateKey } from '@libp2p/interface'
import { ping, type Ping } from '@libp2p/ping'
import { webRTC } from '@libp2p/webrtc'
import { webSockets } from '@libp2p/websockets'
import { webTransport } from '@libp2p/webtransport'
import { createLibp2p, type Libp2p } from 'libp2p'
import type { RelayAddress } from '../util/parse.js'

export type Libp2pNode = Libp2p<{ ping: Ping, identify: unknown }>

export interface NodeOptions {
  privateKey: PrivateKey
  relays: RelayAddress[]
  iceServers: RTCIceServer[]
  direct: boolean
  allowPrivateAddresses: boolean
}

export async function createNode (options: NodeOptions): Promise<Libp2pNode> {
  const listen = options.relays.map(r => `${r.text}/p2p-circuit`)
  if (options.direct) {
    // accept WebRTC connections signalled through the relays
    listen.push('/webrtc')
  }
  return createLibp2p({
    privateKey: options.privateKey,
    start: false,
    addresses: { listen },
    // a relay that is down at start must not stop the peer; others may be up, and
    // online() reports when none is
    transportManager: { faultTolerance: FaultTolerance.NO_FATAL },
    transports: [
      webSockets(),
      webTransport(),
      // no public STUN servers unless configured: the upstream default contacts four
      webRTC({ rtcConfiguration: { iceServers: options.iceServers } }),
      circuitRelayTransport()
    ],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: options.allowPrivateAddresses
      ? { denyDialMultiaddr: () => false }
      : {},
    services: {
      identify: identify(),
      ping: ping()
    }
  })
}
