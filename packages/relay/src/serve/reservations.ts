/**
 * Who holds a reservation, until when, and from which source. A reservation
 * belongs to a live peer: the relay drops it when the holder's last connection
 * closes (the spec ties a reservation to the connection it was made on), so a
 * flood of throwaway identities that disconnect frees its slots at once, instead
 * of holding them for the whole TTL as libp2p's reservation store does.
 */
import { sourceOf } from '../guard/source.js'
import type { ReservationRefusal, SourceLimits } from '../guard/source-limits.js'
import type { PeerId } from '@libp2p/interface'

export interface Reservation {
  peer: PeerId
  /** Address of the connection the reservation was made on; counted against its source. */
  address: string | undefined
  /** Unix time in seconds, as the protocol carries it. */
  expire: bigint
}

export interface ReservationsInit {
  ttlSeconds: number
  limits: SourceLimits
  /** Milliseconds since the epoch; `Date.now` outside tests. */
  now?: () => number
}

export class Reservations {
  private readonly held = new Map<string, Reservation>()
  private readonly init: ReservationsInit
  private readonly now: () => number
  private readonly listeners: Array<(peer: PeerId, held: boolean) => void> = []

  constructor (init: ReservationsInit) {
    this.init = init
    this.now = init.now ?? Date.now
  }

  /** Tells `listener` of every reservation granted (renewals included) and ended. */
  onChange (listener: (peer: PeerId, held: boolean) => void): void {
    this.listeners.push(listener)
  }

  get size (): number {
    return this.held.size
  }

  /** Grants or refreshes `peer`'s reservation, or says why not. */
  reserve (peer: PeerId, address: string | undefined): Reservation | ReservationRefusal {
    const key = peer.toString()
    const existing = this.held.get(key)
    // a refresh from another source counts against the new one; if that refuses, the
    // peer keeps what it held
    if (existing === undefined || sourceOf(existing.address) !== sourceOf(address)) {
      const refusal = this.init.limits.reserve(address)
      if (refusal !== undefined) {
        return refusal
      }
      if (existing !== undefined) {
        this.init.limits.releaseReservation(existing.address)
      }
    }
    const reservation: Reservation = {
      peer,
      address,
      expire: BigInt(Math.floor(this.now() / 1000) + this.init.ttlSeconds)
    }
    this.held.set(key, reservation)
    this.listeners.forEach(listener => { listener(peer, true) })
    return reservation
  }

  /** The live reservation of `peer`, if any (an expired one is dropped here). */
  get (peer: PeerId): Reservation | undefined {
    const key = peer.toString()
    const reservation = this.held.get(key)
    if (reservation !== undefined && this.isExpired(reservation)) {
      this.release(key, reservation)
      return undefined
    }
    return reservation
  }

  has (peer: PeerId): boolean {
    return this.get(peer) !== undefined
  }

  /** Drops `peer`'s reservation; true if it had one. */
  drop (peer: PeerId): boolean {
    const key = peer.toString()
    const reservation = this.held.get(key)
    if (reservation === undefined) {
      return false
    }
    this.release(key, reservation)
    return true
  }

  /** Drops every expired reservation and returns how many. */
  sweep (): number {
    let expired = 0
    for (const [key, reservation] of this.held) {
      if (this.isExpired(reservation)) {
        this.release(key, reservation)
        expired++
      }
    }
    return expired
  }

  clear (): void {
    for (const [key, reservation] of this.held) {
      this.release(key, reservation)
    }
  }

  private isExpired (reservation: Reservation): boolean {
    return Number(reservation.expire) * 1000 <= this.now()
  }

  private release (key: string, reservation: Reservation): void {
    this.held.delete(key)
    this.init.limits.releaseReservation(reservation.address)
    this.listeners.forEach(listener => { listener(reservation.peer, false) })
  }
}
