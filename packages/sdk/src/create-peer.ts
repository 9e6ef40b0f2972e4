import { generateKeyPair, privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import {
  DEFAULT_MAX_INBOUND_LINKS,
  DEFAULT_ROOM_NAMESPACE,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_RECEIVE_WINDOW_BYTES,
  DEFAULT_RELAY_RESERVATIONS,
  DEFAULT_SEND_BUFFER_BYTES,
  MESSAGE_OVERHEAD_BYTES,
  RELAY_TRANSPORT_PREFERENCE
} from './constants.js'
import { LifelineError } from './errors.js'
import { loadWebRTC } from './internal/peer/libp2p-node.js'
import { PeerImpl } from './internal/peer/peer.js'
import { roomNameBytes } from './internal/rooms/topic.js'
import { parseRelays } from './internal/util/parse.js'
import type { Peer, PeerInit } from './types.js'

/** The link handshake carries the receive window and message size as u32. */
const MAX_U32 = 0xffff_ffff

function positiveInteger (name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) {
    return fallback
  }
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new LifelineError('INVALID_CONFIG', `${name} must be a positive integer, got ${String(value)}`)
  }
  return value
}

async function loadKey (bytes: Uint8Array | undefined): Promise<PrivateKey> {
  if (bytes === undefined) {
    return generateKeyPair('Ed25519')
  }
  try {
    return privateKeyFromProtobuf(bytes)
  } catch (err) {
    throw new LifelineError('INVALID_CONFIG', 'privateKey is not a protobuf-encoded private key (use the bytes from exportPrivateKey())', { cause: err })
  }
}

/**
 * Create a peer (not started). Call `start()`, then `online()` to wait for a relay
 * reservation.
 *
 * @throws {LifelineError} `INVALID_MULTIADDR` for a bad relay address, `INVALID_CONFIG`
 * for an out-of-range option or unusable private key
 */
export async function createPeer (init: PeerInit): Promise<Peer> {
  if (!Array.isArray(init.relays) || init.relays.length === 0) {
    throw new LifelineError('INVALID_CONFIG', 'relays must list at least one relay multiaddr ending in /p2p/<relay peer ID>')
  }
  const relays = parseRelays(init.relays, RELAY_TRANSPORT_PREFERENCE)
  const maxMessageBytes = positiveInteger('maxMessageBytes', init.maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES)
  const sendBufferBytes = positiveInteger('sendBufferBytes', init.sendBufferBytes, DEFAULT_SEND_BUFFER_BYTES)
  if (sendBufferBytes < maxMessageBytes) {
    throw new LifelineError('INVALID_CONFIG', `sendBufferBytes (${sendBufferBytes}) must be at least maxMessageBytes (${maxMessageBytes})`)
  }
  const receiveWindowBytes = positiveInteger('receiveWindowBytes', init.receiveWindowBytes, DEFAULT_RECEIVE_WINDOW_BYTES)
  if (receiveWindowBytes < maxMessageBytes + MESSAGE_OVERHEAD_BYTES) {
    throw new LifelineError('INVALID_CONFIG', `receiveWindowBytes (${receiveWindowBytes}) must be at least maxMessageBytes + ${MESSAGE_OVERHEAD_BYTES} (${maxMessageBytes + MESSAGE_OVERHEAD_BYTES}): the largest message must fit`)
  }
  if (receiveWindowBytes > MAX_U32) {
    throw new LifelineError('INVALID_CONFIG', `receiveWindowBytes (${receiveWindowBytes}) must be below 4 GiB (the link handshake carries it as 32 bits)`)
  }
  if (init.relayToken !== undefined && typeof init.relayToken !== 'function') {
    throw new LifelineError('INVALID_CONFIG', `relayToken must be a function (relay) => Promise<string> returning a token, got ${typeof init.relayToken}`)
  }
  const roomNamespace = init.roomNamespace ?? DEFAULT_ROOM_NAMESPACE
  roomNameBytes('namespace', roomNamespace)
  // the WebRTC chunk downloads while the key is generated (see loadWebRTC); its
  // failure surfaces when createNode awaits it
  loadWebRTC().catch(() => {})
  return PeerImpl.create({
    privateKey: await loadKey(init.privateKey),
    relays,
    reservations: positiveInteger('reservations', init.reservations, DEFAULT_RELAY_RESERVATIONS),
    iceServers: init.iceServers ?? [],
    direct: init.direct ?? true,
    allowPrivateAddresses: init.allowPrivateAddresses ?? false,
    maxMessageBytes,
    sendBufferBytes,
    receiveWindowBytes,
    maxInboundLinks: positiveInteger('maxInboundLinks', init.maxInboundLinks, DEFAULT_MAX_INBOUND_LINKS),
    relayToken: init.relayToken,
    roomNamespace
  })
}
