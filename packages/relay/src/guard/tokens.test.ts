import { SignJWT, exportSPKI, generateKeyPair, type CryptoKey } from 'jose'
import { describe, expect, it } from 'vitest'
import { MAX_AUTH_MESSAGE_BYTES, MAX_TOKEN_ROOMS } from '../constants.js'
import { TokenVerifier, importPublicKey, roomsClaim } from './tokens.js'

const PEER = '12D3KooWGRUVh7bQ1zYXaYrq4qnvEXn9Yq1d3jU8dGkqPm1YfHmC'
const OTHER_PEER = '12D3KooWRPHsoSaMWV84cZcD1TrPnnMTenBCEG9Cx8hMLRwXpmMP'
const NOW = Date.UTC(2025, 0, 2, 3, 4, 5)
const seconds = (ms: number): number => Math.floor(ms / 1000)

async function issuer (): Promise<{ privateKey: CryptoKey, publicKey: CryptoKey }> {
  return generateKeyPair('EdDSA', { crv: 'Ed25519' })
}

/** A room topic as an issuer writes it: 64 lowercase hex characters. */
const topic = (n: number): string => n.toString(16).padStart(64, '0')

async function token (privateKey: CryptoKey, claims: { sub?: string | undefined, exp?: number | undefined, nbf?: number, rooms?: unknown } = {}): Promise<string> {
  const jwt = new SignJWT(claims.rooms === undefined ? {} : { rooms: claims.rooms }).setProtectedHeader({ alg: 'EdDSA' }).setIssuedAt(seconds(NOW))
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
    expect(await verifier.verify(await token(privateKey), PEER)).toEqual({ expiresAt: (seconds(NOW) + 3600) * 1000, rooms: undefined })
  })

  it('grants the rooms a rooms claim lists, and every room without one', async () => {
    const { privateKey, publicKey } = await issuer()
    const verifier = new TokenVerifier({ publicKeys: [publicKey], now: () => NOW })
    expect(await verifier.verify(await token(privateKey, { rooms: [topic(1), topic(2), topic(1)] }), PEER)).toEqual({
      expiresAt: (seconds(NOW) + 3600) * 1000,
      rooms: new Set([topic(1), topic(2)])
    })
    expect(await verifier.verify(await token(privateKey, { rooms: [] }), PEER)).toMatchObject({ rooms: new Set() })
    expect(await verifier.verify(await token(privateKey), PEER)).toMatchObject({ rooms: undefined })
  })

  it('refuses a token whose rooms claim is not a list of topics in lowercase hex (token-claims)', async () => {
    const { privateKey, publicKey } = await issuer()
    const verifier = new TokenVerifier({ publicKeys: [publicKey], now: () => NOW })
    expect(await verifier.verify(await token(privateKey, { rooms: topic(1) }), PEER)).toBe('token-claims')
    expect(await verifier.verify(await token(privateKey, { rooms: [topic(1), 'kitchen'] }), PEER)).toBe('token-claims')
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

describe('rooms claim', () => {
  it('is every room when absent and the listed topics otherwise', () => {
    expect(roomsClaim(undefined)).toBeUndefined()
    expect(roomsClaim([])).toEqual(new Set())
    expect(roomsClaim([topic(0xab), topic(0xcd)])).toEqual(new Set([topic(0xab), topic(0xcd)]))
  })

  it('refuses anything but an array of 64 lowercase hex characters each', () => {
    for (const claim of [null, 'all', topic(1), { [topic(1)]: true }, [topic(0xab).toUpperCase()], [topic(1).slice(1)], [`${topic(1)}0`], [`0x${topic(1).slice(2)}`], [42], [[topic(1)]]]) {
      expect(roomsClaim(claim), JSON.stringify(claim)).toBe('token-claims')
    }
  })

  it(`refuses more than ${MAX_TOKEN_ROOMS} topics, and a token with that many still fits an auth message`, async () => {
    const most = Array.from({ length: MAX_TOKEN_ROOMS }, (_, i) => topic(i))
    expect(roomsClaim(most)).toEqual(new Set(most))
    expect(roomsClaim([...most, topic(MAX_TOKEN_ROOMS)])).toBe('token-claims')

    const { privateKey } = await issuer()
    // the protobuf field adds a tag and a two-byte length
    expect(new TextEncoder().encode(await token(privateKey, { rooms: most })).byteLength + 3).toBeLessThanOrEqual(MAX_AUTH_MESSAGE_BYTES)
  })
})
