/**
 * Connecting to a relay over whichever of its transports answers first (Happy
 * Eyeballs, RFC 8305): the preferred address is dialled first, the next one after
 * RELAY_ATTEMPT_DELAY_MS or as soon as an attempt fails, and so on; the first
 * connection up wins and the other attempts are aborted (or closed, when they
 * finish anyway). A page behind a firewall that drops UDP reaches the relay over
 * WSS; one whose proxy breaks WebSockets over WebRTC-Direct.
 *
 * libp2p's own dialer tries a peer's addresses one after another and joins every
 * dial of a peer to the one under way, so the attempts here go straight to the
 * transports (see peer/libp2p-node.ts).
 */
import type { AbortOptions, Connection, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { RELAY_ATTEMPT_DELAY_MS, RELAY_DIAL_TIMEOUT_MS } from '../../constants.js'
import { abortable } from '../util/abort.js'
import { describeFailure } from '../util/failure.js'
import { transportOf, type RelayAddress, type RelayDialAddress } from '../util/parse.js'

export interface RelayConnectorComponents {
  /** Dial exactly this address with its transport, never joining another dial. */
  dialAddress(ma: Multiaddr, options: AbortOptions): Promise<Connection>
  /** Connections to a peer, open or not. */
  getConnections(peer: PeerId): Connection[]
  log(formatter: string, ...args: unknown[]): void
}

/** A connection to a relay and the address it was made on. */
export interface RelayConnection {
  connection: Connection
  address: RelayDialAddress
}

export class RelayConnector {
  private readonly components: RelayConnectorComponents
  private readonly attemptDelayMs: number
  /** Connects under way, by relay: a second caller waits for the first's instead of dialling again. */
  private readonly pending = new Map<string, Promise<RelayConnection>>()
  private readonly stopped = new AbortController()

  constructor (components: RelayConnectorComponents, attemptDelayMs = RELAY_ATTEMPT_DELAY_MS) {
    this.components = components
    this.attemptDelayMs = attemptDelayMs
  }

  /**
   * An open connection to `relay`: the one there is, or a new one over the first of
   * its addresses to answer. A connect is shared by everyone who asks meanwhile and
   * runs under its own deadline (RELAY_DIAL_TIMEOUT_MS), so one caller giving up
   * does not fail it for the others; `options.signal` ends only this caller's wait.
   */
  async connect (relay: RelayAddress, options: AbortOptions = {}): Promise<RelayConnection> {
    const open = this.components.getConnections(relay.peerId).find(c => c.status === 'open')
    if (open !== undefined) {
      return { connection: open, address: addressOf(relay, open.remoteAddr) }
    }
    const key = relay.peerId.toString()
    let connecting = this.pending.get(key)
    if (connecting === undefined) {
      const signal = AbortSignal.any([this.stopped.signal, AbortSignal.timeout(RELAY_DIAL_TIMEOUT_MS)])
      connecting = this.race(relay, signal).finally(() => { this.pending.delete(key) })
      this.pending.set(key, connecting)
    }
    return abortable(connecting, options.signal)
  }

  /** Abort every connect under way (the peer is stopping). */
  stop (): void {
    this.stopped.abort(new Error('the peer stopped'))
  }

  private async race (relay: RelayAddress, signal: AbortSignal): Promise<RelayConnection> {
    const { addresses } = relay
    const attempts: AbortController[] = []
    const failures: string[] = []
    let started = 0
    let timer: ReturnType<typeof setTimeout> | undefined
    const { promise, resolve, reject } = Promise.withResolvers<RelayConnection>()
    let settled = false
    const settle = (): boolean => {
      if (settled) {
        return false
      }
      settled = true
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      return true
    }
    const onAbort = (): void => {
      if (settle()) {
        for (const attempt of attempts) {
          attempt.abort(signal.reason)
        }
        reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)))
      }
    }

    const attempt = (address: RelayDialAddress): void => {
      const controller = new AbortController()
      attempts.push(controller)
      this.components.dialAddress(address.multiaddr, { signal: AbortSignal.any([signal, controller.signal]) }).then(connection => {
        if (!settle()) {
          // a slower attempt that finished anyway: the winner's connection is the one used
          connection.close().catch((err: unknown) => { connection.abort(err instanceof Error ? err : new Error(String(err))) })
          return
        }
        for (const other of attempts) {
          if (other !== controller) {
            other.abort(new Error(`the relay answered over ${address.transport} first`))
          }
        }
        this.components.log('connected to relay %p over %s', relay.peerId, address.transport)
        resolve({ connection, address })
      }, (err: unknown) => {
        if (settled) {
          return
        }
        failures.push(`${address.transport} (${address.text}): ${describeFailure(err)}`)
        if (failures.length === addresses.length) {
          settle()
          // one address: its own error says it all
          reject(addresses.length === 1 ? err : new Error(`every address of the relay failed: ${failures.join('; ')}`, { cause: err }))
        } else {
          // no reason to wait for the delay once the attempt before has failed
          next()
        }
      })
    }

    const next = (): void => {
      clearTimeout(timer)
      const address = addresses[started]
      if (settled || address === undefined) {
        return
      }
      started++
      if (started < addresses.length) {
        timer = setTimeout(next, this.attemptDelayMs)
      }
      attempt(address)
    }

    if (signal.aborted) {
      onAbort()
    } else {
      signal.addEventListener('abort', onAbort, { once: true })
      next()
    }
    return promise
  }
}

/**
 * The configured address a connection was made on, told by its transport (the
 * remote address a transport reports may differ in its tail, e.g. a /certhash/).
 */
function addressOf (relay: RelayAddress, remoteAddr: Multiaddr): RelayDialAddress {
  const transport = transportOf(remoteAddr)
  return relay.addresses.find(a => a.transport === transport) ?? { multiaddr: remoteAddr, text: remoteAddr.toString(), transport }
}
