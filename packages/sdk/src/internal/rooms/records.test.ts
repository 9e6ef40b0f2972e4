import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import { MAX_ROOM_METADATA_BYTES } from '../../constants.js'
import { MemberRecord, type Member } from './pb/rooms.js'
import { decodeMember, metadataBytes, MEMBER_SIGNATURE_PREFIX, relayOfMember, signMember, verifySignature } from './records.js'
import { topicBytes } from './topic.js'

const RELAY = '12D3KooWHFrmLWTTDD4NodngtRMEVYtDGW3mcpGXNzJZeRTMM4Aw'
const RELAY_ADDR = `/ip4/10.0.0.1/tcp/4001/ws/p2p/${RELAY}`

async function member (metadata = 'ada'): Promise<{ member: Member, topic: Uint8Array, peer: string }> {
  const key = await generateKeyPair('Ed25519')
  const peerId = peerIdFromPrivateKey(key)
  const topic = topicBytes('test', 'chat')
  const signed = await signMember(key, peerId, { topic, metadata: new TextEncoder().encode(metadata), seq: 7n })
  return { member: { signed, relayAddrs: [RELAY_ADDR], relayId: peerIdFromString(RELAY).toMultihash().bytes }, topic, peer: peerId.toString() }
}

async function check (m: Member, topic: Uint8Array): Promise<string> {
  const decoded = decodeMember(m, topic)
  if ('invalid' in decoded) {
    return decoded.invalid
  }
  return await verifySignature(decoded.key, decoded.entry.signed) ? 'valid' : 'bad-signature'
}

describe('member records', () => {
  it('signs over "lifeline-room-member/v1\\0" + record, as the relay verifies it', async () => {
    const key = await generateKeyPair('Ed25519')
    const peerId = peerIdFromPrivateKey(key)
    const signed = await signMember(key, peerId, { topic: topicBytes('test', 'chat'), metadata: new Uint8Array([1]), seq: 1n })
    const message = new Uint8Array([...MEMBER_SIGNATURE_PREFIX, ...signed.record])
    expect(await key.publicKey.verify(message, signed.signature)).toBe(true)
    expect(MemberRecord.decode(signed.record).peerId).toEqual(peerId.toMultihash().bytes)
  })

  it('round-trips: a signed record decodes and verifies, with its relay and metadata', async () => {
    const { member: m, topic, peer } = await member('ada')
    expect(await check(m, topic)).toBe('valid')
    const decoded = decodeMember(m, topic)
    if ('invalid' in decoded) {
      throw new Error(decoded.invalid)
    }
    expect(decoded.entry).toMatchObject({ peerId: peer, relayId: RELAY, seq: 7n })
    expect(new TextDecoder().decode(decoded.entry.metadata)).toBe('ada')
    expect(decoded.entry.relay?.text).toBe(RELAY_ADDR)
  })

  it('drops a tampered record, a record of another room, another peer\'s signature and a missing record', async () => {
    const { member: m, topic } = await member('ada')
    const signed = m.signed
    if (signed === undefined) {
      throw new Error('no record')
    }
    const record = MemberRecord.decode(signed.record)
    const tampered = MemberRecord.encode({ ...record, metadata: new TextEncoder().encode('eve') })
    expect(await check({ ...m, signed: { ...signed, record: tampered } }, topic)).toBe('bad-signature')
    const flipped = new Uint8Array(signed.signature)
    flipped[0] = (flipped[0] ?? 0) ^ 1
    expect(await check({ ...m, signed: { ...signed, signature: flipped } }, topic)).toBe('bad-signature')
    expect(await check(m, topicBytes('test', 'other'))).toBe('other-topic')
    const other = await member('eve')
    expect(await check({ ...m, signed: { record: signed.record, signature: other.member.signed?.signature ?? new Uint8Array() } }, topic)).toBe('bad-signature')
    expect(await check({ relayAddrs: m.relayAddrs, relayId: m.relayId }, topic)).toBe('no-record')
    expect(await check({ ...m, signed: { record: new Uint8Array([0xff, 0xff]), signature: signed.signature } }, topic)).toBe('undecodable')
    expect(await check({ ...m, relayId: new Uint8Array([1, 2, 3]) }, topic)).toBe('bad-relay-id')
  })

  it('keeps only relay addresses that parse and name the holding relay', () => {
    const other = '12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq'
    expect(relayOfMember([`/ip4/10.0.0.9/tcp/1/ws/p2p/${other}`, 'garbage', RELAY_ADDR], RELAY)?.addresses.map(a => a.text)).toEqual([RELAY_ADDR])
    expect(relayOfMember([`/ip4/10.0.0.9/tcp/1/ws/p2p/${other}`], RELAY)).toBeUndefined()
  })

  it('takes metadata as a string or bytes, up to the relay\'s 4 KiB', () => {
    expect(metadataBytes('ada')).toEqual(new TextEncoder().encode('ada'))
    expect(metadataBytes(undefined)).toEqual(new Uint8Array())
    expect(metadataBytes(new Uint8Array(MAX_ROOM_METADATA_BYTES)).byteLength).toBe(MAX_ROOM_METADATA_BYTES)
    expect(() => metadataBytes(new Uint8Array(MAX_ROOM_METADATA_BYTES + 1))).toThrow(/at most 4096 bytes/)
    expect(() => metadataBytes(42)).toThrow(/string or a Uint8Array/)
  })
})
