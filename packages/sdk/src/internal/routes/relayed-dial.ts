/**
 * One relayed route: a circuit to the remote through a chosen relay, and a link stream
 * on it.
 *
 * Why it failed is decided here, by our own check rather than by libp2p's message:
 * @libp2p/circuit-relay-v2 4.2.13 reports a HOP CONNECT refused with a status only as
 * an `InvalidMessageError` whose text carries the status ("failed to connect via relay
 * with status NO_RESERVATION"), the same class it would use for a garbled answer, and
 * a dial that joined another one in libp2p's dial queue gets that other dial's error.
 * So the relay connection is opened first, on its own: when that fails, the relay is
 * unreachable. When the circuit or the link stream fails afterwards and the relay
 * connection is still open, the relay answered and it is the remote that was not
 * reached; when the relay connection went down with it, the relay is to blame.
 */
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { relayOf, type RelayAddress } from '../util/parse.js'
import { routeFailure, type RouteFailure } from './failure.js'

export interface RelayedDialComponents {
  /** Dial a multiaddr; `force` opens a new connection even when the peer has one. */
  dial(ma: Multiaddr, options: { signal: AbortSignal, force?: boolean }): Promise<Connection>
  /** A connection to the relay over the first of its transports to answer (relay/connect.ts). */
  connectRelay(relay: RelayAddress, options: { signal: AbortSignal }): Promise<unknown>
  /** Connections to a peer, open or not. */
  getConnections(peer: PeerId): Connection[]
  /** Open a link stream on a connection. */
  newStream(connection: Connection, options: { signal: AbortSignal }): Promise<Stream>
}

export interface RelayedRoute {
  relay: RelayAddress
  connection: Connection
  stream: Stream
}

export type RelayedDialOutcome =
  | { ok: true, route: RelayedRoute }
  | { ok: false, failure: RouteFailure }

/** The remote's address through `relay`. */
export function circuitAddress (relay: RelayAddress, remote: PeerId): Multiaddr {
  return multiaddr(`${relay.text}/p2p-circuit/p2p/${remote.toString()}`)
}

export async function dialRelayed (components: RelayedDialComponents, relay: RelayAddress, remote: PeerId, signal: AbortSignal): Promise<RelayedDialOutcome> {
  const relayUp = (): boolean => components.getConnections(relay.peerId).some(c => c.status === 'open')
  const blame = (): 'relay-unreachable' | 'peer-unreachable' => relayUp() ? 'peer-unreachable' : 'relay-unreachable'

  if (!relayUp()) {
    try {
      await components.connectRelay(relay, { signal })
    } catch (err) {
      return { ok: false, failure: routeFailure(signal, 'relay-unreachable', relay.text, 'relay', err) }
    }
  }

  // reuse an open circuit through this relay; otherwise force a new one, since libp2p
  // would hand back the circuit through another relay (a spare must not share it)
  const relayId = relay.peerId.toString()
  let connection = components.getConnections(remote)
    .find(c => c.status === 'open' && !c.direct && relayOf(c.remoteAddr) === relayId)
  if (connection === undefined) {
    try {
      connection = await components.dial(circuitAddress(relay, remote), { signal, force: true })
    } catch (err) {
      return { ok: false, failure: routeFailure(signal, blame(), relay.text, 'circuit', err) }
    }
  }

  try {
    const stream = await components.newStream(connection, { signal })
    return { ok: true, route: { relay, connection, stream } }
  } catch (err) {
    const failure = routeFailure(signal, blame(), relay.text, 'link-stream', err)
    // a circuit that cannot carry the link is of no use to anyone
    await connection.close().catch(() => {})
    return { ok: false, failure }
  }
}
