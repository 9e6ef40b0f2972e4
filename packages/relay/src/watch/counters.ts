/**
 * What the relay refused, closed and survived, counted by name. Every defence in
 * the security model increments one of these, so an operator (and the hostile-
 * client tests) can see each one working. Names are stable: they are part of the
 * `stats()` contract and map one to one onto exported metrics.
 */
import type { AdmissionRefusal, ReservationRefusal } from '../guard/source-limits.js'
import type { TokenRefusal } from '../guard/tokens.js'
import type { RoomRefusalReason } from '../rooms/records.js'

export type CounterName =
  // a socket closed before it became a libp2p connection
  | 'socket-error'
  | 'ws-protocol-error'
  | 'upgrade-timeout'
  // TLS served by the relay itself: no handshake in time, or a failed one
  | 'tls-handshake-timeout'
  | 'tls-error'
  | 'handshake-timeout'
  | 'handshake-failed'
  | 'http-request-refused'
  // an established connection closed by the relay
  | 'idle-timeout'
  // admission refused at accept time, by reason
  | `refused-${AdmissionRefusal}`
  // HOP answers other than OK
  | `reservation-refused-${ReservationRefusal | 'unauthorized'}`
  | `circuit-refused-${'no-reservation' | 'circuits-total' | 'malformed' | 'connection-failed' | 'unauthorized'}`
  // relay tokens presented on /lifeline/auth/1.0.0
  | 'auth-granted'
  | `auth-refused-${TokenRefusal}`
  | 'hop-malformed'
  // lifecycle
  | 'connections-accepted'
  // subsets of connections-accepted by transport; the rest are plain WebSockets
  | 'connections-accepted-wss'
  | 'connections-accepted-webrtc-direct'
  | 'reservations-granted'
  // granted to a peer that already held one (a subset of reservations-granted)
  | 'reservations-renewed'
  | 'reservations-dropped-on-disconnect'
  | 'reservations-expired'
  | 'circuits-opened'
  | 'circuits-closed'
  | 'circuit-bytes'
  // rooms (/lifeline/rooms/1.0.0): memberships begun, updated (a higher seq) and
  // ended, lookups answered, requests refused by reason, subscribers cut off for not
  // reading, and the shared directory going away and coming back
  | 'rooms-joined'
  | 'rooms-updated'
  | 'rooms-left'
  | 'rooms-lookups'
  | `rooms-refused-${RoomRefusalReason}`
  | 'rooms-subscriber-cut-off'
  | 'rooms-directory-down'
  | 'rooms-directory-up'

export class Counters {
  private readonly values = new Map<CounterName, number>()

  increment (name: CounterName, by = 1): void {
    this.values.set(name, (this.values.get(name) ?? 0) + by)
  }

  get (name: CounterName): number {
    return this.values.get(name) ?? 0
  }

  snapshot (): Partial<Record<CounterName, number>> {
    return Object.fromEntries(this.values)
  }
}
