/**
 * The relay's half of Circuit Relay v2 (https://github.com/libp2p/specs/blob/master/relay/circuit-v2.md):
 * HOP `RESERVE` grants a reservation, HOP `CONNECT` opens a STOP stream to the
 * reserved destination and splices the two. Written here rather than taken from
 * @libp2p/circuit-relay-v2 so that reservations die with their holder's connection,
 * every cap answers with the spec's refusal code and is counted, and circuits hold
 * bounded buffers (see circuit.ts).
 */
import { setMaxListeners } from 'node:events'
import { peerIdFromMultihash } from '@libp2p/peer-id'
import { getNetConfig, pbStream } from '@libp2p/utils'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import * as Digest from 'multiformats/hashes/digest'
import { HopMessage, Status, StopMessage } from './pb/circuit.js'
import { HOP_PROTOCOL, STOP_PROTOCOL } from './protocols.js'
import { splice, type CircuitLimits } from './circuit.js'
import { signVoucher } from './voucher.js'
import type { Reservations } from './reservations.js'
import type { Counters } from '../watch/counters.js'
import type { Connection, Logger, PeerId, PrivateKey, Stream } from '@libp2p/interface'
import type { ProtobufMessageStream } from '@libp2p/utils'
import type { Limit } from './pb/circuit.js'

export { HOP_PROTOCOL, STOP_PROTOCOL }

export interface HopServerComponents {
  peerId: PeerId
  privateKey: PrivateKey
  reservations: Reservations
  counters: Counters
  log: Logger
  /** Open connections to a peer, for the STOP stream. */
  getConnections(peer: PeerId): Connection[]
  /** Addresses of the relay itself, sent with a reservation. */
  addresses(): Multiaddr[]
  /**
   * Whether a connection may reserve and open circuits (it presented a valid relay
   * token); undefined lets every connection.
   */
  authorize?: (connection: Connection) => boolean
  /** Told how long each circuit lasted, in seconds (the metrics' histogram). */
  circuitDurations?: { observe(seconds: number): void }
  /** Milliseconds since some fixed point; `performance.now` outside tests. */
  now?: () => number
}

export interface HopServerInit {
  /** Whole HOP exchange (read a request, answer it, open the STOP stream). */
  hopTimeoutMs: number
  /** Largest HOP or STOP message accepted. */
  maxMessageBytes: number
  /** Circuits open at once over the whole relay. */
  maxCircuits: number
  /** STOP streams open at once on one destination's connection. */
  maxCircuitsPerPeer: number
  circuitLimits: CircuitLimits
}

export class HopServer {
  private readonly components: HopServerComponents
  private readonly init: HopServerInit
  private readonly shutdown = new AbortController()
  /** The circuit limits as the protocol carries them, sent with every grant. */
  private readonly limit: Limit | undefined
  private openCircuits = 0

  constructor (components: HopServerComponents, init: HopServerInit) {
    this.components = components
    this.init = init
    this.limit = limitMessage(init.circuitLimits)
    // every open circuit listens for shutdown: thousands of listeners are expected
    setMaxListeners(Infinity, this.shutdown.signal)
  }

  get circuits (): number {
    return this.openCircuits
  }

  stop (): void {
    this.shutdown.abort()
    this.components.reservations.clear()
  }

  /** The HOP stream handler: one request, one answer, maybe a circuit. */
  async onHop (stream: Stream, connection: Connection): Promise<void> {
    const signal = AbortSignal.any([this.shutdown.signal, AbortSignal.timeout(this.init.hopTimeoutMs)])
    const pb = pbStream(stream, { maxDataLength: this.init.maxMessageBytes }).pb(HopMessage)
    let request: HopMessage
    try {
      request = await pb.read({ signal })
    } catch (err: unknown) {
      this.components.counters.increment('hop-malformed')
      await this.answer(stream, pb, Status.MALFORMED_MESSAGE, signal)
      stream.abort(err instanceof Error ? err : new Error(String(err)))
      return
    }

    try {
      if (request.type === HopMessage.Type.RESERVE) {
        await this.reserve(stream, pb, connection, signal)
      } else if (request.type === HopMessage.Type.CONNECT) {
        await this.connect(stream, pb, request, connection, signal)
      } else {
        this.components.counters.increment('hop-malformed')
        await this.answer(stream, pb, request.type === undefined ? Status.MALFORMED_MESSAGE : Status.UNEXPECTED_MESSAGE, signal)
      }
    } catch (err: unknown) {
      this.components.log.trace('HOP exchange with %p failed: %s', connection.remotePeer, err instanceof Error ? err.message : String(err))
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }

  private async reserve (stream: Stream, pb: HopPb, connection: Connection, signal: AbortSignal): Promise<void> {
    const { counters, reservations } = this.components
    if (this.components.authorize?.(connection) === false) {
      counters.increment('reservation-refused-unauthorized')
      this.components.log('refused a reservation for %p: no valid relay token', connection.remotePeer)
      await this.answer(stream, pb, Status.PERMISSION_DENIED, signal)
      return
    }
    const renewal = reservations.has(connection.remotePeer)
    const result = reservations.reserve(connection.remotePeer, addressOf(connection.remoteAddr))
    if (typeof result === 'string') {
      counters.increment(`reservation-refused-${result}`)
      this.components.log('refused a reservation for %p: %s', connection.remotePeer, result)
      await this.answer(stream, pb, Status.RESERVATION_REFUSED, signal)
      return
    }
    if (connection.status !== 'open') {
      // the holder left while we were deciding: its disconnect already passed
      reservations.drop(connection.remotePeer)
      return
    }
    counters.increment('reservations-granted')
    if (renewal) {
      counters.increment('reservations-renewed')
    }
    const voucher = await signVoucher(this.components.privateKey, this.components.peerId, connection.remotePeer, result.expire)
    const response: HopMessage = {
      type: HopMessage.Type.STATUS,
      status: Status.OK,
      reservation: {
        expire: result.expire,
        addrs: this.components.addresses().map(ma => new Uint8Array(ma.bytes)),
        voucher
      }
    }
    if (this.limit !== undefined) {
      response.limit = this.limit
    }
    await pb.write(response, { signal })
    await stream.close({ signal })
  }

  private async connect (stream: Stream, pb: HopPb, request: HopMessage, connection: Connection, signal: AbortSignal): Promise<void> {
    const { counters, reservations } = this.components
    if (this.components.authorize?.(connection) === false) {
      counters.increment('circuit-refused-unauthorized')
      await this.answer(stream, pb, Status.PERMISSION_DENIED, signal)
      return
    }
    let destination: PeerId
    try {
      if (request.peer === undefined) {
        throw new Error('CONNECT without a peer')
      }
      request.peer.addrs.forEach(bytes => multiaddr(bytes))
      destination = peerIdFromMultihash(Digest.decode(request.peer.id))
    } catch {
      counters.increment('circuit-refused-malformed')
      await this.answer(stream, pb, Status.MALFORMED_MESSAGE, signal)
      return
    }
    const destinationConnection = reservations.has(destination) ? this.components.getConnections(destination).find(c => c.status === 'open') : undefined
    if (destinationConnection === undefined) {
      counters.increment('circuit-refused-no-reservation')
      await this.answer(stream, pb, Status.NO_RESERVATION, signal)
      return
    }
    if (this.openCircuits >= this.init.maxCircuits) {
      counters.increment('circuit-refused-circuits-total')
      await this.answer(stream, pb, Status.RESOURCE_LIMIT_EXCEEDED, signal)
      return
    }

    // counted from here, so concurrent CONNECTs cannot overshoot the cap
    this.openCircuits++
    let spliced = false
    try {
      const stop = await this.openStop(destinationConnection, connection.remotePeer, signal)
      if (stop === undefined) {
        counters.increment('circuit-refused-connection-failed')
        await this.answer(stream, pb, Status.CONNECTION_FAILED, signal)
        return
      }
      const response: HopMessage = { type: HopMessage.Type.STATUS, status: Status.OK }
      if (this.limit !== undefined) {
        response.limit = this.limit
      }
      await pb.write(response, { signal })
      counters.increment('circuits-opened')
      const now = this.components.now ?? (() => performance.now())
      const openedAt = now()
      this.components.log.trace('circuit %p -> %p open', connection.remotePeer, destination)
      splice(pb.unwrap().unwrap(), stop, this.init.circuitLimits, this.shutdown.signal, {
        onBytes: count => { counters.increment('circuit-bytes', count) },
        onClosed: reason => {
          this.openCircuits--
          counters.increment('circuits-closed')
          this.components.circuitDurations?.observe((now() - openedAt) / 1000)
          this.components.log.trace('circuit %p -> %p closed: %s', connection.remotePeer, destination, reason)
        }
      })
      spliced = true
    } finally {
      if (!spliced) {
        this.openCircuits--
      }
    }
  }

  /** Opens the STOP stream to the destination; undefined if it refused or failed. */
  private async openStop (connection: Connection, source: PeerId, signal: AbortSignal): Promise<Stream | undefined> {
    let stream: Stream
    try {
      stream = await connection.newStream(STOP_PROTOCOL, { signal, runOnLimitedConnection: true, maxOutboundStreams: this.init.maxCircuitsPerPeer })
    } catch {
      return undefined
    }
    const pb = pbStream(stream, { maxDataLength: this.init.maxMessageBytes }).pb(StopMessage)
    try {
      const request: StopMessage = { type: StopMessage.Type.CONNECT, peer: { id: source.toMultihash().bytes, addrs: [] } }
      if (this.limit !== undefined) {
        request.limit = this.limit
      }
      await pb.write(request, { signal })
      const response = await pb.read({ signal })
      if (response.status === Status.OK) {
        return pb.unwrap().unwrap()
      }
    } catch {
      // a destination that answers garbage or nothing is a failed connection
    }
    stream.abort(new Error('STOP refused'))
    return undefined
  }

  private async answer (stream: Stream, pb: HopPb, status: Status, signal: AbortSignal): Promise<void> {
    try {
      await pb.write({ type: HopMessage.Type.STATUS, status }, { signal })
      await stream.close({ signal })
    } catch {
      stream.abort(new Error(`HOP answered ${status}`))
    }
  }
}

type HopPb = ProtobufMessageStream<HopMessage, Stream>

function addressOf (ma: Multiaddr): string | undefined {
  try {
    return getNetConfig(ma).host
  } catch {
    return undefined
  }
}

/** The circuit limits as the protocol carries them: seconds and bytes, or nothing when unlimited. */
function limitMessage (limits: CircuitLimits): Limit | undefined {
  const { maxBytes, maxDurationMs } = limits
  if (maxBytes === undefined && maxDurationMs === undefined) {
    return undefined
  }
  const limit: Limit = {}
  if (maxBytes !== undefined) {
    limit.data = maxBytes
  }
  if (maxDurationMs !== undefined) {
    limit.duration = Math.floor(maxDurationMs / 1000)
  }
  return limit
}
