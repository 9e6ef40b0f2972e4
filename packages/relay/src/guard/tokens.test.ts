import { SignJWT, exportSPKI, generateKeyPair, type CryptoKey } from 'jose'
import { describe, expect, it } from 'vitest'
import { TokenVerifier, importPublicKey } from './tokens.js'

const PEER = '12D3KooWGRUVh7bQ1zYXaYrq4qnvEXn9Yq1d3jU8dGkqPm1YfHmC'
const OTHER_PEER = '12D3KooWRPHsoSaMWV84cZcD1TrPnnMTenBCEG9Cx8hMLRwXpmMP'
const NOW = Date.UTC(2025, 0, 2, 3, 4, 5)
const seconds = (ms: number): number => Math.floor(ms / 1000)

async function issuer (): Promise<{ privateKey: CryptoKey, publicKey: CryptoKey }> {
  return generateKeyPair('EdDSA', { crv: 'Ed25519' })
}

async function token (privateKey: CryptoKey, claims: { sub?: string | undefined, exp?: number | undefined, nbf?: number } = {}): Promise<string> {
  const jwt = new SignJWT({}).setProtectedHeader({ alg: 'EdDSA' }).setIssuedAt(seconds(NOW))
  if (claims.sub !== undefined || !('sub' in claims)) {
    jwt.setSubject(claims.sub ?? PEER)
  }
  if (claims.exp !== undefined || !('exp' in claims)) {
    jwt.setExpirationTime(claims.exp ?? seconds(NOW) + 3600)
  }
  if (claims.nbf !== undefined) {
    jwt.setNotBefore(claims.nbf)
  }
  return jwt.sign(privateKey)
}

describe('token verifier', () => {
  it('grants the peer named in sub until exp', async () => {
    const { privateKey, publicKey } = await issuer()
    const verifier = new TokenVerifier({ publicKeys: [publicKey], now: () => NOW })
    expect(await verifier.verify(await token(privateKey), PEER)).toEqual({ expiresAt: (seconds(NOW) + 3600) * 1000 })
  })

  it('refuses a token issued to another peer', async () => {
    const { privateKey, publicKey } = await issuer()
    const verifier = new TokenVerifier({ publicKeys: [publicKey], now: () => NOW })
    expect(await verifier.verify(await token(privateKey, { sub: OTHER_PEER }), PEER)).toBe('token-other-peer')
  })

  it('refuses an expired token, allowing 30 s of clock skew', async () => {
    const { privateKey, publicKey } = await issuer()
    const verifier = new TokenVerifier({ publicKeys: [publicKey], now: () => NOW })
    expect(await verifier.verify(await token(privateKey, { exp: seconds(NOW) - 31 }), PEER)).toBe('token-expired')
    expect(await verifier.verify(await token(privateKey, { exp: seconds(NOW) - 10 }), PEER)).toEqual({ expiresAt: (seconds(NOW) - 10) * 1000 })
  })

  it('refuses a token signed by a key it does not know', async () => {
    const trusted = await issuer()
    const forger = await issuer()
    const verifier = new TokenVerifier({ publicKeys: [trusted.publicKey], now: () => NOW })
    expect(await verifier.verify(await token(forger.privateKey), PEER)).toBe('token-forged')
  })

  it('refuses a token whose payload was changed after signing', async () => {
    const { privateKey, publicKey } = await issuer()
    const verifier = new TokenVerifier({ publicKeys: [publicKey], now: () => NOW })
    const [header, , signature] = (await token(privateKey, { sub: OTHER_PEER })).split('.')
    const payload = Buffer.from(JSON.stringify({ sub: PEER, exp: seconds(NOW) + 3600 })).toString('base64url')
    expect(await verifier.verify(`${header ?? ''}.${payload}.${signature ?? ''}`, PEER)).toBe('token-forged')
  })

  it('refuses an unsigned token (alg none) and one with another algorithm', async () => {
    const { publicKey } = await issuer()
    const verifier = new TokenVerifier({ publicKeys: [publicKey], now: () => NOW })
    const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
    const claims = { sub: PEER, exp: seconds(NOW) + 3600 }
    expect(await verifier.verify(`${b64({ alg: 'none' })}.${b64(claims)}.`, PEER)).toBe('token-malformed')
    expect(await verifier.verify(`${b64({ alg: 'HS256' })}.${b64(claims)}.c2ln`, PEER)).toBe('token-malformed')
  })

  it('refuses a token without exp or sub, one not yet valid, and garbage', async () => {
    const { privateKey, publicKey } = await issuer()
    const verifier = new TokenVerifier({ publicKeys: [publicKey], now: () => NOW })
    expect(await verifier.verify(await token(privateKey, { exp: undefined }), PEER)).toBe('token-claims')
    expect(await verifier.verify(await token(privateKey, { sub: undefined }), PEER)).toBe('token-claims')
    expect(await verifier.verify(await token(privateKey, { nbf: seconds(NOW) + 600 }), PEER)).toBe('token-claims')
    expect(await verifier.verify('not a token', PEER)).toBe('token-malformed')
  })

  it('accepts tokens from any of its keys, so a key can be rotated', async () => {
    const old = await issuer()
    const next = await issuer()
    const verifier = new TokenVerifier({ publicKeys: [old.publicKey, next.publicKey], now: () => NOW })
    expect(await verifier.verify(await token(old.privateKey), PEER)).toMatchObject({ expiresAt: expect.any(Number) as number })
    expect(await verifier.verify(await token(next.privateKey), PEER)).toMatchObject({ expiresAt: expect.any(Number) as number })
  })

  it('reads the PEM public key openssl writes', async () => {
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })
    const imported = await importPublicKey(await exportSPKI(publicKey))
    const verifier = new TokenVerifier({ publicKeys: [imported], now: () => NOW })
    expect(await verifier.verify(await token(privateKey), PEER)).toMatchObject({ expiresAt: expect.any(Number) as number })
  })
})
