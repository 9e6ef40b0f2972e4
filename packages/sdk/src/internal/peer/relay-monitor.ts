/**
 * Relay status for `Peer.status()`: whether each configured relay is connected and
 * holds our reservation (our advertised addresses contain its circuit address), and
 * its RTT, measured with libp2p ping.
 */
import type { Logger } from '@libp2p/interface'
import { RELAY_PING_INTERVAL_MS } from '../../constants.js'
import type { RelayStatus } from '../../types.js'
import type { RelayAddress } from '../util/parse.js'
import type { Libp2pNode } from './libp2p-node.js'

export class RelayMonitor {
  private readonly node: Libp2pNode
  private readonly relays: RelayAddress[]
  private readonly rtt = new Map<string, number>()
  private readonly errors = new Map<string, string>()
  private readonly onChange: () => void
  private readonly log: Logger
  private timer: ReturnType<typeof setInterval> | undefined

  constructor (node: Libp2pNode, relays: RelayAddress[], onChange: () => void, log: Logger) {
    this.node = node
    this.relays = relays
    this.onChange = onChange
    this.log = log
  }

  start (): void {
    this.timer = setInterval(() => { void this.measure() }, RELAY_PING_INTERVAL_MS)
    void this.measure()
  }

  stop (): void {
    clearInterval(this.timer)
  }

  /** Record why a relay could not be used. */
  failed (relayPeerId: string, err: unknown): void {
    this.errors.set(relayPeerId, err instanceof Error ? err.message : String(err))
    this.onChange()
  }

  reservedRelays (): Set<string> {
    const reserved = new Set<string>()
    for (const ma of this.node.getMultiaddrs()) {
      const components = ma.getComponents()
      const circuit = components.findIndex(c => c.name === 'p2p-circuit')
      const relay = circuit > 0 ? components[circuit - 1] : undefined
      if (relay?.name === 'p2p' && relay.value !== undefined) {
        reserved.add(relay.value)
      }
    }
    return reserved
  }

  status (): RelayStatus[] {
    const reserved = this.reservedRelays()
    return this.relays.map(relay => {
      const id = relay.peerId.toString()
      const connected = this.node.getConnections(relay.peerId).some(c => c.status === 'open')
      const status: RelayStatus = {
        multiaddr: relay.text,
        peerId: id,
        state: reserved.has(id) ? 'reserved' : connected ? 'connecting' : 'down'
      }
      const rtt = this.rtt.get(id)
      if (rtt !== undefined && connected) {
        status.rttMs = rtt
      }
      const error = this.errors.get(id)
      if (error !== undefined) {
        status.lastError = error
      }
      return status
    })
  }

  private async measure (): Promise<void> {
    await Promise.all(this.relays.map(async relay => {
      const id = relay.peerId.toString()
      if (!this.node.getConnections(relay.peerId).some(c => c.status === 'open')) {
        return
      }
      try {
        const rtt = await this.node.services.ping.ping(relay.peerId, { signal: AbortSignal.timeout(RELAY_PING_INTERVAL_MS) })
        this.rtt.set(id, rtt)
        this.errors.delete(id)
      } catch (err) {
        this.log('ping to relay %s failed - %e', id, err)
        this.errors.set(id, err instanceof Error ? err.message : String(err))
      }
    }))
    this.onChange()
  }
}
