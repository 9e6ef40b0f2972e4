/**
 * A relay started with auth public keys serves only peers that presented a token
 * signed by one of them, issued to their own peer ID, on their connection.
 */
import './node-compat.js'
import { generateKeyPair, type CryptoKey } from 'jose'
import type { Libp2p } from 'libp2p'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createRelay, defaultRelayConfig, isRelayError, type Relay } from './index.js'
import { AuthResponse } from './serve/pb/auth.js'
import { Status, connectRaw, reserve, startDialer } from '../test/hostile/clients.js'
import { RelayTestbed } from '../test/testbed.js'
import { createIssuer, present, tokenFor } from '../test/tokens.js'

const bed = new RelayTestbed()

beforeEach(async () => { await bed.setUp('lifeline-relay-auth-') })
afterEach(async () => { await bed.tearDown() })

async function startRelay (): Promise<{ relay: Relay, relayAddr: string, issuer: CryptoKey }> {
  const { privateKey, publicKeyFile } = await createIssuer(bed.dir)
  const relay = await bed.startRelay({ authPublicKeyFiles: [publicKeyFile] })
  const [relayAddr] = relay.multiaddrs
  if (relayAddr === undefined) {
    throw new Error('relay reported no address')
  }
  return { relay, relayAddr, issuer: privateKey }
}

async function dialer (): Promise<Libp2p> {
  const peer = await startDialer()
  bed.peers.push(peer)
  return peer
}

describe('relay tokens', () => {
  it('refuses a reservation with PERMISSION_DENIED until the peer presents its token', async () => {
    const { relay, relayAddr, issuer } = await startRelay()
    const peer = await dialer()
    expect(await reserve(peer, relayAddr, AbortSignal.timeout(10_000))).toBe(Status.PERMISSION_DENIED)

    const answer = await present(peer, relayAddr, await tokenFor(issuer, peer.peerId.toString()))
    expect(answer.status).toBe(AuthResponse.Status.OK)
    expect(answer.expires).toBeGreaterThan(BigInt(Math.floor(Date.now() / 1000)))
    expect(await reserve(peer, relayAddr, AbortSignal.timeout(10_000))).toBe(Status.OK)
    expect(relay.stats().counters).toMatchObject({ 'reservation-refused-unauthorized': 1, 'auth-granted': 1, 'reservations-granted': 1 })
  })

  it('refuses another peer\'s token, an expired one and a forged one, with the reason', async () => {
    const { relay, relayAddr, issuer } = await startRelay()
    const peer = await dialer()
    const other = await dialer()
    const forger = (await generateKeyPair('EdDSA', { crv: 'Ed25519' })).privateKey

    expect(await present(peer, relayAddr, await tokenFor(issuer, other.peerId.toString()))).toMatchObject({ status: AuthResponse.Status.REFUSED, reason: 'token-other-peer' })
    expect(await present(peer, relayAddr, await tokenFor(issuer, peer.peerId.toString(), { expiresInSeconds: -3600 }))).toMatchObject({ status: AuthResponse.Status.REFUSED, reason: 'token-expired' })
    expect(await present(peer, relayAddr, await tokenFor(forger, peer.peerId.toString()))).toMatchObject({ status: AuthResponse.Status.REFUSED, reason: 'token-forged' })
    expect(await reserve(peer, relayAddr, AbortSignal.timeout(10_000))).toBe(Status.PERMISSION_DENIED)
    expect(relay.stats().counters).toMatchObject({ 'auth-refused-token-other-peer': 1, 'auth-refused-token-expired': 1, 'auth-refused-token-forged': 1 })
  })

  it('refuses a circuit from a peer without a token, even to a reserved peer', async () => {
    const { relay, relayAddr, issuer } = await startRelay()
    const destination = await dialer()
    await present(destination, relayAddr, await tokenFor(issuer, destination.peerId.toString()))
    expect(await reserve(destination, relayAddr, AbortSignal.timeout(10_000))).toBe(Status.OK)

    const source = await dialer()
    const { status, stream } = await connectRaw(source, relayAddr, destination.peerId.toString(), AbortSignal.timeout(10_000))
    expect(status).toBe(Status.PERMISSION_DENIED)
    stream.abort(new Error('done'))
    expect(relay.stats().counters['circuit-refused-unauthorized']).toBe(1)
  })

  it('stops at start, naming the file, when an auth public key is not one', async () => {
    const bad = join(bed.dir, 'bad.pem')
    await writeFile(bad, 'not a key')
    const started = createRelay({ ...defaultRelayConfig(), port: 0, keyFile: join(bed.dir, 'relay.key'), authPublicKeyFiles: [bad] })
    await expect(started).rejects.toSatisfy(err => isRelayError(err, 'AUTH_KEY_INVALID'))
    await expect(started).rejects.toThrow(`auth public key ${bad} is not an Ed25519 public key in PEM`)
  })
})
