/**
 * Closes connections that serve nobody: holding neither a reservation nor a circuit
 * (a HOP or STOP stream) for the whole idle deadline, counted from when the
 * connection opened or was last seen serving. Without it, a client that completes
 * the handshake and then does nothing would hold a connection slot, and its share of
 * its source's cap, for as long as it likes.
 */
import { HOP_PROTOCOL, STOP_PROTOCOL } from '../serve/hop-server.js'
import type { Connection, PeerId } from '@libp2p/interface'

export interface IdleReaperInit {
  idleTimeoutMs: number
  connections(): Connection[]
  hasReservation(peer: PeerId): boolean
  onClose(connection: Connection): void
  /** Milliseconds since the epoch, as connection timelines use; `Date.now` outside tests. */
  now?: () => number
}

export class IdleReaper {
  private readonly init: IdleReaperInit
  private readonly now: () => number
  /** When each connection was last seen holding a reservation or a circuit. */
  private readonly lastBusy = new WeakMap<Connection, number>()

  constructor (init: IdleReaperInit) {
    this.init = init
    this.now = init.now ?? Date.now
  }

  /** Closes every idle connection now; returns how many. */
  sweep (): number {
    const now = this.now()
    let closed = 0
    for (const connection of this.init.connections()) {
      if (connection.status !== 'open') {
        continue
      }
      if (this.init.hasReservation(connection.remotePeer) || carriesCircuit(connection)) {
        this.lastBusy.set(connection, now)
        continue
      }
      if (now - (this.lastBusy.get(connection) ?? connection.timeline.open) < this.init.idleTimeoutMs) {
        continue
      }
      closed++
      this.init.onClose(connection)
      connection.abort(new Error('idle: no reservation and no circuit'))
    }
    return closed
  }
}

function carriesCircuit (connection: Connection): boolean {
  return connection.streams.some(stream => stream.protocol === HOP_PROTOCOL || stream.protocol === STOP_PROTOCOL)
}
