/**
 * Rooms through one real relay process (rooms in its memory): members see each other
 * with their metadata, talk over links through room.send() and 'message', and see a
 * member leave, whether it calls leave() or its process dies.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createPeer, isLifelineError, type Peer, type PeerInit, type Room } from '../src/index.js'
import { killPeerProcesses, spawnPeerProcess } from './peer-process.js'
import { startRelay, type RelayProcess } from './relay-process.js'
import { codeOf, TestPeers } from './support.js'

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

let relay: RelayProcess
const peers = new TestPeers()

async function startPeer (init: Partial<PeerInit> = {}): Promise<Peer> {
  return peers.start({ relays: [relay.multiaddr], roomNamespace: 'rooms-test', ...init })
}

function names (room: Room): Array<[string, string]> {
  return room.members().map(m => [m.peerId, text(m.metadata)] as [string, string]).sort()
}

beforeAll(async () => {
  relay = await startRelay()
})

afterEach(async () => {
  await peers.stopAll()
})

afterAll(async () => {
  killPeerProcesses()
  await relay.stop()
})

describe('rooms through one relay', () => {
  it('members see each other with their metadata, exchange messages, and see a leave', async () => {
    const a = await startPeer()
    const b = await startPeer()
    const atA = await a.join('chat', { metadata: 'ada' })
    const joinedAtA: string[] = []
    atA.addEventListener('join', evt => { joinedAtA.push(evt.detail.peerId) })
    const atB = await b.join('chat', { metadata: 'bob' })
    await expect.poll(() => names(atA)).toEqual([[b.peerId, 'bob']])
    await expect.poll(() => names(atB)).toEqual([[a.peerId, 'ada']])
    expect(joinedAtA).toEqual([b.peerId])
    expect(atA.members()[0]?.relays).toEqual([relay.multiaddr.split('/p2p/')[1]])
    expect(a.status().rooms).toEqual([expect.objectContaining({ name: 'chat', members: 1, invalidRecords: 0 })])

    const heardAtB: string[] = []
    const heardAtA: string[] = []
    atB.addEventListener('message', evt => { heardAtB.push(`${evt.detail.from}:${text(evt.detail.data)}`) })
    atA.addEventListener('message', evt => { heardAtA.push(`${evt.detail.from}:${text(evt.detail.data)}`) })
    await atA.connect(b.peerId)
    await atA.send('hello room')
    await expect.poll(() => heardAtB).toEqual([`${a.peerId}:hello room`])
    // B's side of the link was opened by A: B's room forwards it all the same
    await expect.poll(() => b.links().length).toBe(1)
    await atB.send('hi ada')
    await expect.poll(() => heardAtA).toEqual([`${b.peerId}:hi ada`])

    const updates: string[] = []
    atA.addEventListener('update', evt => { updates.push(text(evt.detail.metadata)) })
    await atB.setMetadata('bobby')
    await expect.poll(() => updates).toEqual(['bobby'])

    const left: string[] = []
    atA.addEventListener('leave', evt => { left.push(evt.detail.peerId) })
    await atB.leave()
    await atB.leave()
    await expect.poll(() => left).toEqual([b.peerId])
    expect(atA.members()).toEqual([])
    expect(b.status().rooms).toEqual([])
  })

  it('a member whose process dies without a word leaves the others\' view', async () => {
    const a = await startPeer()
    const atA = await a.join('abrupt')
    const child = await spawnPeerProcess(relay.multiaddr, 'rooms-test', 'abrupt')
    await expect.poll(() => atA.members().map(m => m.peerId)).toEqual([child.peerId])
    const left: string[] = []
    atA.addEventListener('leave', evt => { left.push(evt.detail.peerId) })
    await child.kill()
    await expect.poll(() => left).toEqual([child.peerId])
  })

  it('a room is in its namespace: the same name in another namespace is another room', async () => {
    const a = await startPeer()
    const b = await startPeer({ roomNamespace: 'another-app' })
    const atA = await a.join('lobby')
    const atB = await b.join('lobby')
    const c = await startPeer()
    const atC = await c.join('lobby')
    await expect.poll(() => atA.members().map(m => m.peerId)).toEqual([c.peerId])
    expect(atB.members()).toEqual([])
    expect(atC.members().map(m => m.peerId)).toEqual([a.peerId])
  })

  it('refuses bad input with INVALID_CONFIG, joining twice, and joining before start()', async () => {
    const a = await startPeer()
    expect(await codeOf(a.join(''))).toBe('INVALID_CONFIG')
    expect(await codeOf(a.join('x'.repeat(2000)))).toBe('INVALID_CONFIG')
    expect(await codeOf(a.join('big', { metadata: new Uint8Array(4097) }))).toBe('INVALID_CONFIG')
    const room = await a.join('once')
    expect(await codeOf(a.join('once'))).toBe('INVALID_CONFIG')
    expect(await codeOf(room.setMetadata(new Uint8Array(5000)))).toBe('INVALID_CONFIG')
    await room.leave()
    expect(await codeOf(room.setMetadata('late'))).toBe('ROOM_REFUSED')
    await (await a.join('once')).leave()
    const idle = await createPeer({ relays: [relay.multiaddr] })
    expect(await codeOf(idle.join('chat'))).toBe('NOT_STARTED')
    expect(await codeOf(createPeer({ relays: [relay.multiaddr], roomNamespace: '' }))).toBe('INVALID_CONFIG')
  })

  it('rejects join() with ROOM_REFUSED and the relay\'s reason when the relay refuses it', async () => {
    const strict = await startRelay(['--max-rooms-per-peer', '1'])
    try {
      const a = await peers.start({ relays: [strict.multiaddr], roomNamespace: 'rooms-test' })
      await a.join('first')
      let error: unknown
      try {
        await a.join('second')
      } catch (err) {
        error = err
      }
      expect(isLifelineError(error, 'ROOM_REFUSED')).toBe(true)
      expect(String(error)).toContain('LIMIT')
      expect(a.status().rooms.map(r => r.name)).toEqual(['first'])
    } finally {
      await peers.stopAll()
      await strict.stop()
    }
  })
})
