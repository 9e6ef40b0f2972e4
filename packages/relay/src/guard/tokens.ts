/**
 * Signed relay tokens: EdDSA (Ed25519) JSON Web Tokens issued by the operator's
 * backend, checked with its public keys (several at once, so a key can be rotated:
 * add the new key, let tokens signed by the old one expire, remove it). A token is
 * good for one peer: its `sub` must be the peer ID the connection proved with Noise,
 * so a token copied from another peer is worthless. An optional `rooms` claim lists
 * the room topics (lowercase hex, as the relay keys rooms) the token covers; without
 * it the token covers every room. Pure but for the keys and an injected clock.
 */
import { readFile } from 'node:fs/promises'
import { errors, importSPKI, jwtVerify, type CryptoKey } from 'jose'
import { AUTH_CLOCK_TOLERANCE_SECONDS, MAX_TOKEN_ROOMS } from '../constants.js'
import { AuthKeyError } from '../errors.js'
import { TOPIC_BYTES } from '../rooms/records.js'

/** Why a token was refused; also the name it is counted under. */
export type TokenRefusal = 'token-malformed' | 'token-forged' | 'token-expired' | 'token-other-peer' | 'token-claims'

export interface TokenGrant {
  /** Milliseconds since the epoch after which the grant is void (the token's `exp`). */
  expiresAt: number
  /** The room topics (lowercase hex) the token covers; undefined when it has no `rooms` claim: every room. */
  rooms: ReadonlySet<string> | undefined
}

/** A topic as the relay keys rooms (records.ts `topicHex`): SHA-256 in lowercase hex. */
const TOPIC_HEX = new RegExp(`^[0-9a-f]{${2 * TOPIC_BYTES}}$`)

/**
 * The `rooms` claim: absent (undefined, every room), or an array of at most
 * MAX_TOKEN_ROOMS topics in lowercase hex; anything else is `token-claims`, so an
 * issuer's mistake refuses the token instead of granting more or fewer rooms than meant.
 */
export function roomsClaim (value: unknown): ReadonlySet<string> | undefined | 'token-claims' {
  if (value === undefined) {
    return undefined
  }
  if (!Array.isArray(value) || value.length > MAX_TOKEN_ROOMS) {
    return 'token-claims'
  }
  const rooms = new Set<string>()
  for (const topic of value as unknown[]) {
    if (typeof topic !== 'string' || !TOPIC_HEX.test(topic)) {
      return 'token-claims'
    }
    rooms.add(topic)
  }
  return rooms
}

export interface TokenVerifierInit {
  /** The issuers' public keys, PEM (SPKI), Ed25519. */
  publicKeys: readonly CryptoKey[]
  /** Milliseconds since the epoch; `Date.now` outside tests. */
  now?: () => number
}

/** Reads a PEM `PUBLIC KEY` (as `openssl pkey -pubout` writes it) for EdDSA; throws what jose throws. */
export async function importPublicKey (pem: string): Promise<CryptoKey> {
  return importSPKI(pem, 'EdDSA')
}

export class TokenVerifier {
  private readonly init: TokenVerifierInit
  private readonly now: () => number

  constructor (init: TokenVerifierInit) {
    this.init = init
    this.now = init.now ?? Date.now
  }

  /** Checks `token` for `peerId`: a grant until its `exp`, or why not. */
  async verify (token: string, peerId: string): Promise<TokenGrant | TokenRefusal> {
    let refusal: TokenRefusal = 'token-forged'
    for (const key of this.init.publicKeys) {
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['EdDSA'],
          requiredClaims: ['sub', 'exp'],
          currentDate: new Date(this.now()),
          clockTolerance: AUTH_CLOCK_TOLERANCE_SECONDS
        })
        if (payload.sub !== peerId) {
          return 'token-other-peer'
        }
        const rooms = roomsClaim(payload['rooms'])
        if (rooms === 'token-claims') {
          return rooms
        }
        // requiredClaims guarantees exp; jose has checked it is a number in the future
        return { expiresAt: (payload.exp ?? 0) * 1000, rooms }
      } catch (err: unknown) {
        const kind = refusalOf(err)
        if (kind !== 'token-forged') {
          // malformed, expired or missing claims do not depend on the key
          return kind
        }
        refusal = kind
      }
    }
    return refusal
  }
}

/** Decided on jose's error codes, never on its messages. */
function refusalOf (err: unknown): TokenRefusal {
  if (err instanceof errors.JWTExpired) {
    return 'token-expired'
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return 'token-forged'
  }
  if (err instanceof errors.JWTClaimValidationFailed) {
    return 'token-claims'
  }
  return 'token-malformed'
}

/**
 * Reads the `--auth-public-key` files.
 *
 * @throws AuthKeyError (code `AUTH_KEY_INVALID`) naming the file that cannot be read
 * or holds no Ed25519 public key in PEM
 */
export async function loadPublicKeys (files: readonly string[]): Promise<CryptoKey[]> {
  return Promise.all(files.map(async file => {
    let pem: string
    try {
      pem = await readFile(file, 'utf8')
    } catch (err: unknown) {
      throw new AuthKeyError(`cannot read the auth public key ${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
    }
    try {
      return await importPublicKey(pem)
    } catch (err: unknown) {
      throw new AuthKeyError(`auth public key ${file} is not an Ed25519 public key in PEM ("-----BEGIN PUBLIC KEY-----", as openssl pkey -pubout writes it)`, { cause: err })
    }
  }))
}
