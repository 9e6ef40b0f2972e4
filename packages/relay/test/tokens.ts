/**
 * The application backend's side of relay tokens, for the relay tests: an issuer key
 * pair whose public key the relay is started with, tokens it signs, and a client's
 * presentation of one on its connection (/lifeline/auth/1.0.0).
 */
import { pbStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { SignJWT, exportSPKI, generateKeyPair, type CryptoKey } from 'jose'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { AUTH_PROTOCOL } from '../src/serve/protocols.js'
import { AuthRequest, AuthResponse } from '../src/serve/pb/auth.js'
import type { Libp2p } from 'libp2p'

export interface Issuer {
  privateKey: CryptoKey
  /** The public key in PEM, for `authPublicKeyFiles`. */
  publicKeyFile: string
}

/** A new Ed25519 issuer whose public key is written to `dir/issuer.pem`. */
export async function createIssuer (dir: string): Promise<Issuer> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })
  const publicKeyFile = join(dir, 'issuer.pem')
  await writeFile(publicKeyFile, await exportSPKI(publicKey))
  return { privateKey, publicKeyFile }
}

export interface TokenClaims {
  /** Seconds from now to `exp`; an hour by default. */
  expiresInSeconds?: number
  /** The `rooms` claim as the issuer writes it; none by default. */
  rooms?: unknown
}

export async function tokenFor (issuer: CryptoKey, sub: string, claims: TokenClaims = {}): Promise<string> {
  return new SignJWT(claims.rooms === undefined ? {} : { rooms: claims.rooms }).setProtectedHeader({ alg: 'EdDSA' }).setSubject(sub)
    .setExpirationTime(Math.floor(Date.now() / 1000) + (claims.expiresInSeconds ?? 3600)).sign(issuer)
}

/** Presents `token` on the peer's connection to the relay; returns the relay's answer. */
export async function present (peer: Libp2p, relayAddr: string, token: string): Promise<AuthResponse> {
  const signal = AbortSignal.timeout(10_000)
  const stream = await peer.dialProtocol(multiaddr(relayAddr), AUTH_PROTOCOL, { signal })
  const pb = pbStream(stream)
  await pb.write({ token }, AuthRequest, { signal })
  const answer = await pb.read(AuthResponse, { signal })
  // the exchange counts against the connection's auth streams until both sides close
  await stream.close({ signal })
  return answer
}
