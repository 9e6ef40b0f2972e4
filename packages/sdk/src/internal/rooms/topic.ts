/**
 * A room's topic, as protocols/rooms.proto defines it: SHA-256 of
 * "lifeline-room/v1\0" + namespace + "\0" + name (UTF-8). Only the topic goes on the
 * wire, so relays never learn room names. Hashed with @noble/hashes (already under
 * @libp2p/crypto), not WebCrypto: `crypto.subtle` exists only in secure contexts, and
 * a page on plain http from a LAN address (a test lab, a dev server) is not one.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { DEFAULT_ROOM_NAMESPACE, MAX_ROOM_NAME_BYTES } from '../../constants.js'
import { LifelineError } from '../../errors.js'
import type { RoomTopicOptions } from '../../types.js'

const encoder = new TextEncoder()

export const TOPIC_BYTES = 32

/**
 * A room name or namespace as UTF-8, checked.
 *
 * @throws {LifelineError} `INVALID_CONFIG` for an empty, overlong or non-string value
 */
export function roomNameBytes (what: 'name' | 'namespace', value: unknown): Uint8Array {
  if (typeof value !== 'string' || value.length === 0) {
    throw new LifelineError('INVALID_CONFIG', `A room ${what} must be a non-empty string, got ${typeof value === 'string' ? 'an empty string' : typeof value}`)
  }
  const bytes = encoder.encode(value)
  if (bytes.byteLength > MAX_ROOM_NAME_BYTES) {
    throw new LifelineError('INVALID_CONFIG', `A room ${what} may be at most ${MAX_ROOM_NAME_BYTES} UTF-8 bytes (MAX_ROOM_NAME_BYTES), got ${bytes.byteLength}`)
  }
  return bytes
}

/** The topic of room `name` in `namespace` (both checked with roomNameBytes). */
export function topicBytes (namespace: string, name: string): Uint8Array {
  const ns = roomNameBytes('namespace', namespace)
  const n = roomNameBytes('name', name)
  const prefix = encoder.encode('lifeline-room/v1\0')
  const input = new Uint8Array(prefix.byteLength + ns.byteLength + 1 + n.byteLength)
  input.set(prefix)
  input.set(ns, prefix.byteLength)
  input.set(n, prefix.byteLength + ns.byteLength + 1)
  return sha256(input)
}

/**
 * The topic of room `name`, in lowercase hex: what a relay token's `rooms` claim
 * lists to let its peer join the room (the relay sees only topics, never names).
 * Pure and synchronous, so an app's backend computes it as the page does.
 *
 * @example
 * new SignJWT({ rooms: [roomTopic('kitchen', { namespace: 'my-app' })] })
 *
 * @throws {LifelineError} `INVALID_CONFIG` for an empty or overlong name or namespace
 */
export function roomTopic (name: string, options: RoomTopicOptions = {}): string {
  return bytesToHex(topicBytes(options.namespace ?? DEFAULT_ROOM_NAMESPACE, name))
}
