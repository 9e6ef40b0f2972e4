/**
 * A member record as the relay accepts it (protocols/rooms.proto): a SignedMember
 * whose record names a 32-byte topic and the peer on the other end of the
 * connection, signed by that peer's key over "lifeline-room-member/v1\0" + record.
 * Noise proved who the remote peer is, so a record that names it and carries its
 * signature cannot have been made by anyone else. Members check the signature
 * again; the relay checks so that nobody can put a record into a room for a peer it
 * is not.
 */
import { peerIdFromMultihash } from '@libp2p/peer-id'
import * as Digest from 'multiformats/hashes/digest'
import { MemberRecord, RoomEvent, type SignedMember } from './pb/rooms.js'
import type { PeerId } from '@libp2p/interface'

/** Domain separation: a member signature cannot be replayed as any other signed thing. */
export const MEMBER_SIGNATURE_PREFIX = new TextEncoder().encode('lifeline-room-member/v1\0')

/** SHA-256, as rooms.proto defines the topic. */
export const TOPIC_BYTES = 32

/** Why a request was refused, as counted (`rooms-refused-<reason>`) and logged. */
export type RoomRefusalReason =
  | 'malformed'
  | 'topic-invalid'
  | 'peer-invalid'
  | 'other-peer'
  | 'signature-invalid'
  | 'metadata-too-large'
  | 'other-topic'
  | 'no-reservation'
  | 'unauthorized'
  // the connection's relay token has a `rooms` claim that does not list the topic
  | 'room-not-covered'
  | 'rooms-per-peer'
  | 'room-members'
  | 'directory-unavailable'

/** The wire code each reason is answered with. */
const WIRE_CODE: Readonly<Record<RoomRefusalReason, RoomEvent.ErrorCode>> = {
  malformed: RoomEvent.ErrorCode.BAD_REQUEST,
  'topic-invalid': RoomEvent.ErrorCode.BAD_REQUEST,
  'peer-invalid': RoomEvent.ErrorCode.BAD_REQUEST,
  'other-peer': RoomEvent.ErrorCode.BAD_REQUEST,
  'signature-invalid': RoomEvent.ErrorCode.BAD_REQUEST,
  'metadata-too-large': RoomEvent.ErrorCode.BAD_REQUEST,
  'other-topic': RoomEvent.ErrorCode.BAD_REQUEST,
  // a member must be dialable through the relay it joined on
  'no-reservation': RoomEvent.ErrorCode.BAD_REQUEST,
  unauthorized: RoomEvent.ErrorCode.NOT_AUTHORIZED,
  'room-not-covered': RoomEvent.ErrorCode.NOT_AUTHORIZED,
  'rooms-per-peer': RoomEvent.ErrorCode.LIMIT,
  'room-members': RoomEvent.ErrorCode.LIMIT,
  'directory-unavailable': RoomEvent.ErrorCode.DIRECTORY_UNAVAILABLE
}

/** A refused rooms request: `reason` inside the relay, `code` and `message` on the wire. */
export class RoomRefusal extends Error {
  readonly reason: RoomRefusalReason

  constructor (reason: RoomRefusalReason, message: string) {
    super(message)
    this.reason = reason
    this.name = 'RoomRefusal'
  }

  get code (): RoomEvent.ErrorCode {
    return WIRE_CODE[this.reason]
  }
}

export function isRoomRefusal (err: unknown): err is RoomRefusal {
  return err instanceof Error && err.name === 'RoomRefusal' && 'reason' in err && typeof err.reason === 'string' && err.reason in WIRE_CODE
}

/** A SignedMember that passed every check, with what the relay needs from it. */
export interface VerifiedMember {
  signed: SignedMember
  record: MemberRecord
  peer: PeerId
  /** The topic in lowercase hex, the rooms' key everywhere in the relay. */
  topic: string
}

/**
 * Decodes and checks `signed` as a record of `remotePeer`.
 *
 * @throws RoomRefusal with reason `malformed`, `topic-invalid`, `peer-invalid`
 * (not a peer ID, or one whose public key is not inline: RSA), `other-peer`,
 * `metadata-too-large` or `signature-invalid`
 */
export async function verifyMember (signed: SignedMember | undefined, remotePeer: PeerId, maxMetadataBytes: number): Promise<VerifiedMember> {
  if (signed === undefined) {
    throw new RoomRefusal('malformed', 'JOIN carries no member record')
  }
  let record: MemberRecord
  try {
    record = MemberRecord.decode(signed.record)
  } catch {
    throw new RoomRefusal('malformed', 'the member record does not decode as a MemberRecord')
  }
  if (record.topic.byteLength !== TOPIC_BYTES) {
    throw new RoomRefusal('topic-invalid', `the topic must be ${TOPIC_BYTES} bytes (SHA-256), got ${record.topic.byteLength}`)
  }
  let peer: PeerId
  try {
    peer = peerIdFromMultihash(Digest.decode(record.peerId))
  } catch {
    throw new RoomRefusal('peer-invalid', 'the record\'s peer_id is not a peer ID multihash')
  }
  if (peer.publicKey === undefined) {
    throw new RoomRefusal('peer-invalid', `the record's peer ID ${peer.toString()} does not hold its public key (use an Ed25519 or secp256k1 key)`)
  }
  if (!peer.equals(remotePeer)) {
    throw new RoomRefusal('other-peer', `the record names ${peer.toString()}, not the peer of this connection`)
  }
  if (record.metadata.byteLength > maxMetadataBytes) {
    throw new RoomRefusal('metadata-too-large', `metadata is ${record.metadata.byteLength} bytes, this relay accepts at most ${maxMetadataBytes}`)
  }
  const signedBytes = new Uint8Array(MEMBER_SIGNATURE_PREFIX.byteLength + signed.record.byteLength)
  signedBytes.set(MEMBER_SIGNATURE_PREFIX)
  signedBytes.set(signed.record, MEMBER_SIGNATURE_PREFIX.byteLength)
  let valid: boolean
  try {
    valid = await peer.publicKey.verify(signedBytes, signed.signature)
  } catch {
    valid = false
  }
  if (!valid) {
    throw new RoomRefusal('signature-invalid', 'the signature does not verify with the record\'s peer key over "lifeline-room-member/v1\\0" + record')
  }
  return { signed, record, peer, topic: topicHex(record.topic) }
}

export function topicHex (topic: Uint8Array): string {
  return Buffer.from(topic.buffer, topic.byteOffset, topic.byteLength).toString('hex')
}
