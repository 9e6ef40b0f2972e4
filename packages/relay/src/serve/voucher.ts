/**
 * The reservation voucher: the relay's signed statement that `peer` may be reached
 * through `relay` until `expiration` (Circuit Relay v2 spec, "Reservation Vouchers";
 * the envelope is RFC 0002, signed envelopes).
 */
import { RecordEnvelope } from '@libp2p/peer-record'
import { ReservationVoucher } from './pb/circuit.js'
import type { PeerId, PrivateKey, Record } from '@libp2p/interface'

/** The spec's envelope domain and multicodec (`libp2p-relay-rsvp`, 0x0302). */
const VOUCHER_DOMAIN = 'libp2p-relay-rsvp'
const VOUCHER_CODEC = new Uint8Array([0x03, 0x02])

class VoucherRecord implements Record {
  readonly domain = VOUCHER_DOMAIN
  readonly codec = VOUCHER_CODEC

  constructor (private readonly relay: PeerId, private readonly peer: PeerId, private readonly expiration: bigint) {}

  marshal (): Uint8Array {
    return ReservationVoucher.encode({
      relay: this.relay.toMultihash().bytes,
      peer: this.peer.toMultihash().bytes,
      expiration: this.expiration
    })
  }

  equals (other: Record): boolean {
    return other instanceof VoucherRecord && other.relay.equals(this.relay) && other.peer.equals(this.peer) &&
      other.expiration === this.expiration
  }
}

/** The marshalled envelope, as the `Reservation.voucher` field carries it. */
export async function signVoucher (privateKey: PrivateKey, relay: PeerId, peer: PeerId, expiration: bigint): Promise<Uint8Array<ArrayBuffer>> {
  const envelope = await RecordEnvelope.seal(new VoucherRecord(relay, peer, expiration), privateKey)
  return new Uint8Array(envelope.marshal())
}
