/**
 * Member records (protocols/rooms.proto): this peer's, signed with its peer key over
 * "lifeline-room-member/v1\0" + the encoded MemberRecord, exactly as the relay checks
 * them (packages/relay/src/rooms/records.ts); and every other member's, checked again
 * here. A relay is not trusted: a record that does not name the room's topic, whose
 * peer ID holds no public key, or whose signature does not verify is dropped.
 */
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { peerIdFromMultihash } from '@libp2p/peer-id'
import * as Digest from 'multiformats/hashes/digest'
import {
  MAX_ADDRS_PER_RELAY,
  MAX_RELAY_ADDR_CHARS,
  MAX_ROOM_METADATA_BYTES,
  RELAY_TRANSPORT_PREFERENCE
} from '../../constants.js'
import { LifelineError } from '../../errors.js'
import { parseRelays, type RelayAddress } from '../util/parse.js'
import { MemberRecord, type Member, type SignedMember } from './pb/rooms.js'
import { TOPIC_BYTES } from './topic.js'

/** Domain separation: a member signature cannot be replayed as any other signed thing. */
export const MEMBER_SIGNATURE_PREFIX = new TextEncoder().encode('lifeline-room-member/v1\0')

/** One membership of one peer as one relay holds it, checked. */
export interface MemberEntry {
  peerId: string
  /** The holding relay's peer ID. */
  relayId: string
  /** The holding relay's addresses that parsed and name it; undefined when none did. */
  relay: RelayAddress | undefined
  metadata: Uint8Array
  seq: bigint
  /** As received, to skip verifying a record seen before. */
  signed: SignedMember
}

/** Why a member record was dropped. */
export type InvalidRecord =
  | 'no-record'
  | 'undecodable'
  | 'other-topic'
  | 'bad-peer-id'
  | 'bad-relay-id'
  | 'metadata-too-large'
  | 'bad-signature'

/** The bytes a member signs. */
export function signedBytes (record: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(MEMBER_SIGNATURE_PREFIX.byteLength + record.byteLength)
  bytes.set(MEMBER_SIGNATURE_PREFIX)
  bytes.set(record, MEMBER_SIGNATURE_PREFIX.byteLength)
  return bytes
}

/** This peer's record for `topic`, signed with `key`. */
export async function signMember (key: PrivateKey, peerId: PeerId, fields: { topic: Uint8Array, metadata: Uint8Array, seq: bigint }): Promise<SignedMember> {
  const record = new Uint8Array(MemberRecord.encode({
    topic: new Uint8Array(fields.topic),
    peerId: new Uint8Array(peerId.toMultihash().bytes),
    metadata: new Uint8Array(fields.metadata),
    seq: fields.seq
  }))
  return { record, signature: new Uint8Array(await key.sign(signedBytes(record))) }
}

/** A peer ID from its multihash bytes; undefined for anything else. */
export function peerIdFromBytes (bytes: Uint8Array): PeerId | undefined {
  try {
    return peerIdFromMultihash(Digest.decode(bytes))
  } catch {
    return undefined
  }
}

/** The parts of a Member worth verifying, or why it is dropped. Cheap: no signature check. */
export function decodeMember (member: Member, topic: Uint8Array): { entry: MemberEntry, key: PeerId } | { invalid: InvalidRecord } {
  const signed = member.signed
  if (signed === undefined) {
    return { invalid: 'no-record' }
  }
  let record: MemberRecord
  try {
    record = MemberRecord.decode(signed.record)
  } catch {
    return { invalid: 'undecodable' }
  }
  if (record.topic.byteLength !== TOPIC_BYTES || !equalBytes(record.topic, topic)) {
    return { invalid: 'other-topic' }
  }
  const peer = peerIdFromBytes(record.peerId)
  if (peer?.publicKey === undefined) {
    return { invalid: 'bad-peer-id' }
  }
  const relayId = peerIdFromBytes(member.relayId)
  if (relayId === undefined) {
    return { invalid: 'bad-relay-id' }
  }
  if (record.metadata.byteLength > MAX_ROOM_METADATA_BYTES) {
    return { invalid: 'metadata-too-large' }
  }
  return {
    key: peer,
    entry: {
      peerId: peer.toString(),
      relayId: relayId.toString(),
      relay: relayOfMember(member.relayAddrs, relayId.toString()),
      metadata: record.metadata,
      seq: record.seq,
      signed
    }
  }
}

/** Whether `key`'s peer signed `signed` (a member record). */
export async function verifySignature (key: PeerId, signed: SignedMember): Promise<boolean> {
  try {
    return await (key.publicKey?.verify(signedBytes(signed.record), signed.signature) ?? false)
  } catch {
    return false
  }
}

/**
 * The members of one relay event that pass every check, this peer's own left out;
 * `known` skips the signature check of a record verified before (byte for byte).
 */
export async function verifyMembers (members: readonly Member[], topic: Uint8Array, self: string, known: (entry: MemberEntry) => boolean): Promise<{ entries: MemberEntry[], invalid: Array<{ peerId?: string, reason: InvalidRecord }> }> {
  const entries: MemberEntry[] = []
  const invalid: Array<{ peerId?: string, reason: InvalidRecord }> = []
  for (const member of members) {
    const decoded = decodeMember(member, topic)
    if ('invalid' in decoded) {
      invalid.push({ reason: decoded.invalid })
      continue
    }
    const { entry, key } = decoded
    if (entry.peerId === self) {
      continue
    }
    if (!known(entry) && !await verifySignature(key, entry.signed)) {
      invalid.push({ peerId: entry.peerId, reason: 'bad-signature' })
      continue
    }
    entries.push(entry)
  }
  return { entries, invalid }
}

/**
 * The relay a member is held on, from the addresses the relay gave: only those that
 * parse as relay addresses and end in the relay's own ID (a relay cannot point
 * others at a third party's ID), a bounded number of bounded length.
 */
export function relayOfMember (addrs: readonly string[], relayId: string): RelayAddress | undefined {
  const usable: string[] = []
  for (const addr of addrs) {
    if (usable.length >= MAX_ADDRS_PER_RELAY) {
      break
    }
    if (addr.length > MAX_RELAY_ADDR_CHARS || !addr.endsWith(`/p2p/${relayId}`)) {
      continue
    }
    try {
      parseRelays([addr], RELAY_TRANSPORT_PREFERENCE)
      usable.push(addr)
    } catch {
      // an address we could not dial (a transport without its certhash, garbage)
    }
  }
  const [relay] = usable.length === 0 ? [] : parseRelays(usable, RELAY_TRANSPORT_PREFERENCE)
  return relay
}

export function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((byte, i) => byte === b[i])
}

const encoder = new TextEncoder()

/**
 * Metadata as bytes, checked.
 *
 * @throws {LifelineError} `INVALID_CONFIG`
 */
export function metadataBytes (metadata: unknown): Uint8Array {
  if (metadata === undefined) {
    return new Uint8Array()
  }
  const bytes = typeof metadata === 'string' ? encoder.encode(metadata) : metadata instanceof Uint8Array ? metadata : undefined
  if (bytes === undefined) {
    throw new LifelineError('INVALID_CONFIG', `Room metadata must be a string or a Uint8Array, got ${typeof metadata}`)
  }
  if (bytes.byteLength > MAX_ROOM_METADATA_BYTES) {
    throw new LifelineError('INVALID_CONFIG', `Room metadata may be at most ${MAX_ROOM_METADATA_BYTES} bytes (MAX_ROOM_METADATA_BYTES, the relays' limit), got ${bytes.byteLength}`)
  }
  return new Uint8Array(bytes)
}
