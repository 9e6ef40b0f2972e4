/**
 * The initiator's side of libp2p's Noise handshake (https://github.com/libp2p/specs/blob/master/noise/README.md):
 * Noise_XX_25519_ChaChaPoly_SHA256 with an empty prologue, each message framed by a
 * 2-byte big-endian length, and the libp2p payload (identity key and the signature
 * of the static key) in message 3. Everything a client can do before it dials (its
 * identity, static key and signed payload) is done once, in `createIdentity`, so a
 * timed handshake costs the client one key pair, two key imports, three
 * Diffie-Hellmans and a few AEAD operations. The relay's own payload is decrypted
 * (its MAC checked) but its signature is not verified: a bench client trusts the
 * relay it was pointed at.
 */
import {
  createCipheriv, createDecipheriv, createHash, createHmac, createPublicKey, diffieHellman, generateKeyPairSync, sign,
  type KeyObject
} from 'node:crypto'

const PROTOCOL_NAME = Buffer.from('Noise_XX_25519_ChaChaPoly_SHA256')
const STATIC_KEY_SIGNATURE_PREFIX = Buffer.from('noise-libp2p-static-key:')
/** DER SubjectPublicKeyInfo header of a raw 32-byte X25519 public key. */
const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex')
const SPKI_PREFIX_BYTES = 12
const KEY_BYTES = 32
const TAG_BYTES = 16
/** Largest Noise message, and so the largest plaintext of one: 65535 - 16. */
export const MAX_NOISE_PLAINTEXT = 65_535 - TAG_BYTES

/** A client's long-lived keys and its handshake payload, made before any timing starts. */
export interface Identity {
  /** The peer ID as a multihash (identity hash of the protobuf public key), as CONNECT names a peer. */
  peerId: Uint8Array<ArrayBuffer>
  staticPrivate: KeyObject
  staticPublic: Buffer
  /** NoiseHandshakePayload { identity_key, identity_sig }. */
  payload: Buffer
  /** The Ed25519 identity key, for what a peer signs besides its handshake (e.g. a room member record). */
  signingKey: KeyObject
}

function rawPublicKey (key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX_BYTES)
}

function protobufBytes (field: number, bytes: Uint8Array): Buffer {
  if (bytes.byteLength >= 0x80) {
    // two-byte varint; nothing here is 16 KiB long
    return Buffer.concat([Buffer.from([(field << 3) | 2, (bytes.byteLength & 0x7f) | 0x80, bytes.byteLength >> 7]), bytes])
  }
  return Buffer.concat([Buffer.from([(field << 3) | 2, bytes.byteLength]), bytes])
}

export function createIdentity (): Identity {
  const ed25519 = generateKeyPairSync('ed25519')
  const x25519 = generateKeyPairSync('x25519')
  const staticPublic = rawPublicKey(x25519.publicKey)
  // libp2p's PublicKey protobuf: { Type = Ed25519 (1), Data = 32 bytes }
  const publicKey = Buffer.concat([Buffer.from([0x08, 0x01]), protobufBytes(2, rawPublicKey(ed25519.publicKey))])
  const signature = sign(null, Buffer.concat([STATIC_KEY_SIGNATURE_PREFIX, staticPublic]), ed25519.privateKey)
  return {
    // identity multihash: code 0x00, then the length and the protobuf public key
    peerId: Buffer.concat([Buffer.from([0x00, publicKey.byteLength]), publicKey]),
    staticPrivate: x25519.privateKey,
    staticPublic,
    payload: Buffer.concat([protobufBytes(1, publicKey), protobufBytes(2, signature)]),
    signingKey: ed25519.privateKey
  }
}

function nonceBytes (n: number): Buffer {
  const nonce = Buffer.alloc(12)
  nonce.writeUInt32LE(n >>> 0, 4)
  nonce.writeUInt32LE(Math.floor(n / 2 ** 32), 8)
  return nonce
}

function encrypt (key: Buffer, n: number, ad: Buffer, plaintext: Buffer): Buffer {
  const cipher = createCipheriv('chacha20-poly1305', key, nonceBytes(n), { authTagLength: TAG_BYTES })
  cipher.setAAD(ad, { plaintextLength: plaintext.byteLength })
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()])
}

function decrypt (key: Buffer, n: number, ad: Buffer, ciphertext: Buffer): Buffer {
  if (ciphertext.byteLength < TAG_BYTES) {
    throw new Error('Noise message shorter than its tag')
  }
  const decipher = createDecipheriv('chacha20-poly1305', key, nonceBytes(n), { authTagLength: TAG_BYTES })
  decipher.setAAD(ad, { plaintextLength: ciphertext.byteLength - TAG_BYTES })
  decipher.setAuthTag(ciphertext.subarray(ciphertext.byteLength - TAG_BYTES))
  return Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.byteLength - TAG_BYTES)), decipher.final()])
}

function sha256 (...parts: Buffer[]): Buffer {
  const hash = createHash('sha256')
  for (const part of parts) {
    hash.update(part)
  }
  return hash.digest()
}

function hmac (key: Buffer, ...parts: Buffer[]): Buffer {
  const mac = createHmac('sha256', key)
  for (const part of parts) {
    mac.update(part)
  }
  return mac.digest()
}

/** Noise's HKDF with two outputs. */
function hkdf (chainingKey: Buffer, input: Buffer): [Buffer, Buffer] {
  const temp = hmac(chainingKey, input)
  const first = hmac(temp, Buffer.from([1]))
  return [first, hmac(temp, first, Buffer.from([2]))]
}

function dh (privateKey: KeyObject, publicRaw: Buffer): Buffer {
  const publicKey = createPublicKey({ key: Buffer.concat([X25519_SPKI_PREFIX, publicRaw]), format: 'der', type: 'spki' })
  return diffieHellman({ privateKey, publicKey })
}

/** One direction of the transport phase: a key and its message counter. */
export class CipherState {
  private n = 0

  constructor (private readonly key: Buffer) {}

  encrypt (plaintext: Buffer): Buffer {
    return encrypt(this.key, this.n++, Buffer.alloc(0), plaintext)
  }

  decrypt (ciphertext: Buffer): Buffer {
    return decrypt(this.key, this.n++, Buffer.alloc(0), ciphertext)
  }
}

/** Noise's SymmetricState for the handshake. */
class Symmetric {
  // the protocol name is exactly 32 bytes, so it is the initial hash as it is
  h: Buffer = PROTOCOL_NAME
  ck: Buffer = PROTOCOL_NAME
  private key: Buffer | undefined
  private n = 0

  mixHash (data: Buffer): void {
    this.h = sha256(this.h, data)
  }

  mixKey (input: Buffer): void {
    const [ck, key] = hkdf(this.ck, input)
    this.ck = ck
    this.key = key
    this.n = 0
  }

  encryptAndHash (plaintext: Buffer): Buffer {
    const ciphertext = this.key === undefined ? plaintext : encrypt(this.key, this.n++, this.h, plaintext)
    this.mixHash(ciphertext)
    return ciphertext
  }

  decryptAndHash (ciphertext: Buffer): Buffer {
    const plaintext = this.key === undefined ? ciphertext : decrypt(this.key, this.n++, this.h, ciphertext)
    this.mixHash(ciphertext)
    return plaintext
  }

  split (): [CipherState, CipherState] {
    const [first, second] = hkdf(this.ck, Buffer.alloc(0))
    return [new CipherState(first), new CipherState(second)]
  }
}

/**
 * The initiator's handshake, driven by the caller's I/O: `first()` gives message
 * 1, `second(message2)` takes the relay's answer and gives message 3 and the
 * transport's cipher states (send, receive). Messages are without their length prefix.
 */
export class Handshake {
  private readonly state = new Symmetric()
  private readonly ephemeral = generateKeyPairSync('x25519')

  constructor (private readonly identity: Identity) {
    // the empty prologue is still hashed in
    this.state.mixHash(Buffer.alloc(0))
  }

  first (): Buffer {
    const ephemeralPublic = rawPublicKey(this.ephemeral.publicKey)
    this.state.mixHash(ephemeralPublic)
    // message 1 has an empty payload, hashed in like any other
    this.state.encryptAndHash(Buffer.alloc(0))
    return ephemeralPublic
  }

  second (message: Buffer): { third: Buffer, send: CipherState, receive: CipherState } {
    if (message.byteLength < KEY_BYTES + KEY_BYTES + TAG_BYTES + TAG_BYTES) {
      throw new Error(`Noise message 2 of ${message.byteLength} bytes is too short`)
    }
    const remoteEphemeral = message.subarray(0, KEY_BYTES)
    this.state.mixHash(remoteEphemeral)
    this.state.mixKey(dh(this.ephemeral.privateKey, remoteEphemeral))
    const remoteStatic = this.state.decryptAndHash(message.subarray(KEY_BYTES, KEY_BYTES + KEY_BYTES + TAG_BYTES))
    this.state.mixKey(dh(this.ephemeral.privateKey, remoteStatic))
    // the relay's identity and signature: decrypted (so authenticated as a Noise message), not verified
    this.state.decryptAndHash(message.subarray(KEY_BYTES + KEY_BYTES + TAG_BYTES))

    const encryptedStatic = this.state.encryptAndHash(this.identity.staticPublic)
    this.state.mixKey(dh(this.identity.staticPrivate, remoteEphemeral))
    const encryptedPayload = this.state.encryptAndHash(this.identity.payload)
    const [send, receive] = this.state.split()
    return { third: Buffer.concat([encryptedStatic, encryptedPayload]), send, receive }
  }
}
