/**
 * Relay tokens against the real relay CLI started with `--auth-public-key`: the test
 * plays the application's backend, signing EdDSA JWTs with a key pair made here.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { SignJWT } from 'jose'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createPeer, isLifelineError, roomTopic, type Link, type Peer, type PeerInit, type RelayStatus } from '../src/index.js'
import { startRelay, type RelayProcess } from './relay-process.js'

let issuer: KeyObject
let keyDir: string
let relay: RelayProcess
const peers: Peer[] = []
/** Tokens the backend issued, per peer ID. */
const issued = new Map<string, number>()

beforeAll(async () => {
  const pair = generateKeyPairSync('ed25519')
  issuer = pair.privateKey
  keyDir = mkdtempSync(join(tmpdir(), 'lifeline-token-'))
  const publicKeyFile = join(keyDir, 'issuer.pub.pem')
  writeFileSync(publicKeyFile, pair.publicKey.export({ type: 'spki', format: 'pem' }))
  relay = await startRelay(['--auth-public-key', publicKeyFile])
})

afterEach(async () => {
  await Promise.all(peers.splice(0).map(async p => { await p.stop() }))
})

afterAll(async () => {
  await relay.stop()
  rmSync(keyDir, { recursive: true, force: true })
})

/** What the application's backend does: sign `sub` until `exp` (unix seconds), for `rooms` (topics) when given. */
async function sign (sub: string, exp: number, rooms?: string[]): Promise<string> {
  issued.set(sub, (issued.get(sub) ?? 0) + 1)
  return new SignJWT(rooms === undefined ? {} : { rooms }).setProtectedHeader({ alg: 'EdDSA' }).setSubject(sub).setExpirationTime(exp).sign(issuer)
}

const inAnHour = (): number => Math.floor(Date.now() / 1000) + 3600

/** A started peer (not waited online) whose identity is known before its tokens are signed. */
async function startPeer (relayToken?: (self: string) => Promise<string>, more: Partial<PeerInit> = {}): Promise<Peer> {
  const key = await generateKeyPair('Ed25519')
  const self = peerIdFromPrivateKey(key).toString()
  const init: PeerInit = { relays: [relay.multiaddr], privateKey: privateKeyToProtobuf(key), allowPrivateAddresses: true, direct: false, ...more }
  if (relayToken !== undefined) {
    init.relayToken = async () => relayToken(self)
  }
  const peer = await createPeer(init)
  peers.push(peer)
  await peer.start()
  return peer
}

function relayStatus (peer: Peer): RelayStatus | undefined {
  return peer.status().relays[0]
}

/** online() with a short deadline; the error it fails with. */
async function onlineError (peer: Peer): Promise<unknown> {
  return peer.online({ signal: AbortSignal.timeout(1500) }).then(() => undefined, (err: unknown) => err)
}

describe('relay tokens', () => {
  it('reserves with a valid token, and two such peers exchange a message', async () => {
    const a = await startPeer(async self => sign(self, inAnHour()))
    const b = await startPeer(async self => sign(self, inAnHour()))
    await a.online()
    await b.online()
    expect(relayStatus(a)?.state).toBe('reserved')
    expect(issued.get(a.peerId)).toBeGreaterThanOrEqual(1)

    const incoming = new Promise<Link>(resolve => { b.addEventListener('link', e => { resolve(e.detail) }, { once: true }) })
    const link = await a.connect(b.peerId)
    const remote = await incoming
    const received: string[] = []
    remote.addEventListener('message', e => { received.push(new TextDecoder().decode(e.detail)) })
    await link.send('granted')
    await expect.poll(() => received).toEqual(['granted'])
  })

  it('does not reserve without a token and says the relay requires one', async () => {
    const peer = await startPeer()
    const err = await onlineError(peer)
    expect(isLifelineError(err, 'RELAY_UNREACHABLE')).toBe(true)
    expect((err as Error).message).toContain('the relay requires a relay token and PeerInit.relayToken is not set')
    expect(relayStatus(peer)).toMatchObject({ state: 'down', lastError: 'reservation refused (PERMISSION_DENIED): the relay requires a relay token and PeerInit.relayToken is not set' })
  })

  it('does not reserve with an expired token and shows token-expired', async () => {
    const peer = await startPeer(async self => sign(self, Math.floor(Date.now() / 1000) - 3600))
    const err = await onlineError(peer)
    expect(isLifelineError(err, 'RELAY_UNREACHABLE')).toBe(true)
    expect((err as Error).message).toContain('relay refused the token (token-expired)')
    expect(relayStatus(peer)).toMatchObject({ state: 'down', lastError: 'relay refused the token (token-expired)' })
  })

  it('does not reserve with a token for another peer ID and shows token-other-peer', async () => {
    const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const peer = await startPeer(async () => sign(other, inAnHour()))
    const err = await onlineError(peer)
    expect(isLifelineError(err, 'RELAY_UNREACHABLE')).toBe(true)
    expect(relayStatus(peer)).toMatchObject({ state: 'down', lastError: 'relay refused the token (token-other-peer)' })
  })

  it('joins the rooms its token lists, and join() of another room rejects with ROOM_REFUSED saying the token does not cover it', async () => {
    const namespace = 'token-rooms'
    // the backend computes the topic as the page does, from the room name
    const allowed = [roomTopic('allowed', { namespace })]
    const a = await startPeer(async self => sign(self, inAnHour(), allowed), { roomNamespace: namespace })
    const b = await startPeer(async self => sign(self, inAnHour(), allowed), { roomNamespace: namespace })
    const atA = await a.join('allowed')
    await b.join('allowed')
    await expect.poll(() => atA.members().map(m => m.peerId)).toEqual([b.peerId])

    const err = await a.join('other').then(() => undefined, (e: unknown) => e)
    expect(isLifelineError(err, 'ROOM_REFUSED')).toBe(true)
    expect((err as Error).message).toContain('refused to join room "other": NOT_AUTHORIZED: the relay token does not cover this room')
    // the refused room is not kept; the allowed one carries on
    expect(a.status().rooms.map(r => r.name)).toEqual(['allowed'])
    expect(atA.status().relays[0]?.state).toBe('joined')
  })

  it('shows a relayToken callback that fails, and backs off', async () => {
    const peer = await startPeer(() => Promise.reject(new Error('backend answered 503')))
    await expect.poll(() => relayStatus(peer)?.lastError).toBe('relayToken() failed: backend answered 503')
    expect(relayStatus(peer)?.state).toBe('down')
    expect(relayStatus(peer)?.retryAt).toBeGreaterThan(Date.now())
  })
})
