/**
 * Node libp2p peers that reach the relay over WebRTC-Direct (node-datachannel), and
 * raw STUN datagrams for attacking its UDP port below libp2p.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { identify } from '@libp2p/identify'
import { webRTCDirect } from '@libp2p/webrtc'
import { createLibp2p, type Libp2p } from 'libp2p'
import { createHmac, randomBytes } from 'node:crypto'
import { echoOn } from './hostile/clients.js'

/** Loopback only: no STUN server is needed, and none may be contacted. */
const NO_ICE_SERVERS = { iceServers: [] }

/**
 * A peer that dials the relay only over WebRTC-Direct; with `reserveOn` it reserves a
 * slot there (and echoes every ECHO stream), like an echo peer over WebSockets.
 */
export async function startWebRtcDirectPeer (reserveOn?: string): Promise<Libp2p> {
  const peer = await createLibp2p({
    addresses: { listen: reserveOn === undefined ? [] : [`${reserveOn}/p2p-circuit`] },
    transports: [webRTCDirect({ rtcConfiguration: NO_ICE_SERVERS }), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: { denyDialMultiaddr: () => false },
    services: { identify: identify() }
  })
  await echoOn(peer)
  return peer
}

/** A ufrag as @libp2p/webrtc makes them: its version prefix and 32 random letters. */
export function freshUfrag (): string {
  return `libp2p+webrtc+v1/${randomBytes(24).toString('base64').replace(/[^a-zA-Z0-9]/g, 'a').slice(0, 32)}`
}

const MAGIC_COOKIE = 0x2112a442

/**
 * A STUN binding request as an ICE agent of a WebRTC-Direct client sends it: USERNAME
 * `ufrag:ufrag`, the ufrag as password (the spec's ufrag == pwd), PRIORITY,
 * ICE-CONTROLLING, MESSAGE-INTEGRITY and FINGERPRINT (RFC 8489, RFC 8445).
 */
export function stunBindingRequest (ufrag: string): Buffer {
  const attrs: Buffer[] = [
    attribute(0x0006, Buffer.from(`${ufrag}:${ufrag}`)),
    attribute(0x0024, uint32(0x6e0001ff)),
    attribute(0x802a, randomBytes(8))
  ]
  const header = (length: number): Buffer => {
    const h = Buffer.alloc(20)
    h.writeUInt16BE(0x0001, 0)
    h.writeUInt16BE(length, 2)
    h.writeUInt32BE(MAGIC_COOKIE, 4)
    transaction.copy(h, 8)
    return h
  }
  const transaction = randomBytes(12)
  let body = Buffer.concat(attrs)
  // MESSAGE-INTEGRITY covers the message with its own 24 bytes already in the length
  const integrity = createHmac('sha1', ufrag).update(Buffer.concat([header(body.length + 24), body])).digest()
  body = Buffer.concat([body, attribute(0x0008, integrity)])
  const crc = crc32(Buffer.concat([header(body.length + 8), body])) ^ 0x5354554e
  body = Buffer.concat([body, attribute(0x8028, uint32(crc >>> 0))])
  return Buffer.concat([header(body.length), body])
}

function attribute (type: number, value: Buffer): Buffer {
  const head = Buffer.alloc(4)
  head.writeUInt16BE(type, 0)
  head.writeUInt16BE(value.length, 2)
  const padding = Buffer.alloc((4 - (value.length % 4)) % 4)
  return Buffer.concat([head, value, padding])
}

function uint32 (value: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(value >>> 0, 0)
  return b
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) {
    c = (c & 1) !== 0 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  }
  return c >>> 0
})

function crc32 (data: Buffer): number {
  let crc = 0xffffffff
  for (const byte of data) {
    crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8)
  }
  return (crc ^ 0xffffffff) >>> 0
}
