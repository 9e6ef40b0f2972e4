/**
 * libp2p clients for the hostile suite: legitimate peers (stock js-libp2p, from
 * 127.0.0.1) and throwaway identities dialling from a chosen source address.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { identify } from '@libp2p/identify'
import { transportSymbol, UnsupportedOperationError } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { pbStream } from '@libp2p/utils'
import { webSockets } from '@libp2p/websockets'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import { randomBytes } from 'node:crypto'
import { WebSocket } from 'ws'
import { wsConnection } from '../../src/listen/ws-connection.js'
import { HOP_PROTOCOL } from '../../src/serve/hop-server.js'
import { HopMessage, Status } from '../../src/serve/pb/circuit.js'
import type { ComponentLogger, Connection, DialTransportOptions, Listener, Stream, Transport } from '@libp2p/interface'
import type { Socket } from 'node:net'

export const ECHO = '/lifeline-test/echo/1.0.0'

/** A peer reachable through the relay, echoing every stream on ECHO. */
export async function startEchoPeer (relayAddr: string): Promise<Libp2p> {
  const peer = await createLibp2p({
    addresses: { listen: [`${relayAddr}/p2p-circuit`] },
    transports: [webSockets(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: { denyDialMultiaddr: () => false },
    services: { identify: identify() }
  })
  await echoOn(peer)
  return peer
}

/** Makes `peer` echo every stream on ECHO, over relayed connections too. */
export async function echoOn (peer: Libp2p): Promise<void> {
  await peer.handle(ECHO, async stream => {
    for await (const chunk of stream) {
      if (!stream.send(chunk)) {
        await stream.onDrain()
      }
    }
    await stream.close()
  }, { runOnLimitedConnection: true })
}

export async function waitForReservation (peer: Libp2p, signal: AbortSignal): Promise<void> {
  while (!peer.getMultiaddrs().some(ma => ma.toString().includes('/p2p-circuit'))) {
    signal.throwIfAborted()
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

export async function startDialer (): Promise<Libp2p> {
  return createLibp2p({
    transports: [webSockets(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: { denyDialMultiaddr: () => false },
    services: { identify: identify() }
  })
}

/** Sends 1 KiB through a fresh circuit to `to` and checks it comes back. */
export async function echoThroughRelay (from: Libp2p, to: Libp2p, relayAddr: string, signal: AbortSignal): Promise<void> {
  const stream = await from.dialProtocol(multiaddr(`${relayAddr}/p2p-circuit/p2p/${to.peerId.toString()}`), ECHO, { signal, runOnLimitedConnection: true })
  const payload = randomBytes(1024)
  stream.send(payload)
  await stream.close({ signal })
  const chunks: Uint8Array[] = []
  for await (const chunk of stream) {
    chunks.push(chunk.subarray())
  }
  if (Buffer.compare(Buffer.concat(chunks), payload) !== 0) {
    throw new Error('echo came back different')
  }
}

/**
 * A libp2p transport that dials WebSockets from one local address, so throwaway
 * peers can come from many sources on one machine.
 */
class BoundWebSockets implements Transport {
  readonly [transportSymbol] = true as const
  readonly [Symbol.toStringTag] = 'bound-websockets'

  constructor (private readonly localAddress: string, private readonly logger: ComponentLogger) {}

  async dial (ma: Multiaddr, options: DialTransportOptions): Promise<Connection> {
    const { host, port } = /\/ip4\/(?<host>[^/]+)\/tcp\/(?<port>\d+)/.exec(ma.toString())?.groups ?? {}
    const ws = new WebSocket(`ws://${host ?? ''}:${port ?? ''}`, { localAddress: this.localAddress })
    let tcp: Socket | undefined
    ws.once('upgrade', response => { tcp = response.socket })
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => { resolve() })
      ws.once('error', reject)
    })
    if (tcp === undefined) {
      throw new Error('WebSocket opened without an upgrade response')
    }
    ws.on('error', () => {})
    const maConn = wsConnection({
      socket: ws,
      tcp,
      remoteAddr: ma,
      direction: 'outbound',
      log: this.logger.forComponent('hostile:client'),
      maxBufferedBytes: 1024 * 1024
    })
    return options.upgrader.upgradeOutbound(maConn, { signal: options.signal })
  }

  createListener (): Listener {
    throw new UnsupportedOperationError('dial only')
  }

  listenFilter = (): Multiaddr[] => []
  dialFilter = (addrs: Multiaddr[]): Multiaddr[] => addrs.filter(ma => ma.toString().includes('/ws'))
}

/** A bare libp2p node dialling from `localAddress`; each one is a new identity. */
export async function throwawayPeer (localAddress: string): Promise<Libp2p> {
  return createLibp2p({
    transports: [components => new BoundWebSockets(localAddress, components.logger)],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: { denyDialMultiaddr: () => false }
  })
}

/** Makes a HOP RESERVE request and returns the relay's status (a Status name). */
export async function reserve (peer: Libp2p, relayAddr: string, signal: AbortSignal): Promise<Status | undefined> {
  const stream: Stream = await peer.dialProtocol(multiaddr(relayAddr), HOP_PROTOCOL, { signal })
  const hop = pbStream(stream).pb(HopMessage)
  await hop.write({ type: HopMessage.Type.RESERVE }, { signal })
  const answer = await hop.read({ signal })
  return answer.status
}

/**
 * Opens a circuit by hand (HOP CONNECT) and returns the relay's answer and the raw
 * stream, spliced to the destination when the answer is OK: whatever is written on
 * it reaches the destination's connection as is, below any end-to-end flow control.
 */
export async function connectRaw (peer: Libp2p, relayAddr: string, destination: string, signal: AbortSignal): Promise<{ status: Status | undefined, stream: Stream }> {
  const stream: Stream = await peer.dialProtocol(multiaddr(relayAddr), HOP_PROTOCOL, { signal })
  const hop = pbStream(stream).pb(HopMessage)
  await hop.write({ type: HopMessage.Type.CONNECT, peer: { id: peerIdFromString(destination).toMultihash().bytes, addrs: [] } }, { signal })
  const answer = await hop.read({ signal })
  return { status: answer.status, stream: hop.unwrap().unwrap() }
}

export { Status }
