/**
 * Rooms across a fleet of three real relay processes sharing a real Redis: peers
 * reserved on disjoint relays see each other, dial each other through a relay they
 * do not use themselves, lose the members of a killed relay within the presence TTL
 * and see them again once they reserve elsewhere; a peer in no room reaches another
 * through LOOKUP; autoConnect links every member to every other.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Peer, PeerInit, Room } from '../src/index.js'
import { startRedisServer, stopRedisServers } from './redis-server.js'
import { fleetArgs, startRelay, type RelayProcess } from './relay-process.js'
import { codeOf, TestPeers } from './support.js'

/**
 * A short presence TTL, so a killed relay's members go in about two seconds (the
 * relays re-read every TTL / 4); the polls wait up to 20 s (vitest.config.ts).
 */
const PRESENCE_TTL_SECONDS = 2

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)
const idOf = (relay: RelayProcess): string => relay.multiaddr.split('/p2p/')[1] ?? ''

let r1: RelayProcess
let r2: RelayProcess
let r3: RelayProcess
const peers = new TestPeers()

async function startPeer (relays: RelayProcess[], init: Partial<PeerInit> = {}): Promise<Peer> {
  return peers.start({ relays: relays.map(r => r.multiaddr), roomNamespace: 'fleet-test', reservations: 1, ...init })
}

function memberIds (room: Room): string[] {
  return room.members().map(m => m.peerId).sort()
}

beforeAll(async () => {
  const redis = await startRedisServer()
  const args = fleetArgs({ redis: redis.url, presenceTtlSeconds: PRESENCE_TTL_SECONDS })
  ;[r1, r2, r3] = await Promise.all([startRelay(args), startRelay(args), startRelay(args)])
})

afterEach(async () => {
  await peers.stopAll()
})

afterAll(async () => {
  await Promise.all([r1, r2, r3].map(async r => { await r.stop() }))
  await stopRedisServers()
})

describe('rooms across relays sharing Redis', () => {
  it('members on disjoint relays see each other, and link through a relay only the remote uses', async () => {
    const a = await startPeer([r1])
    const b = await startPeer([r3])
    const c = await startPeer([r2])
    const [atA, atB, atC] = await Promise.all([
      a.join('fleet', { metadata: 'ada' }),
      b.join('fleet', { metadata: 'bob' }),
      c.join('fleet', { metadata: 'cyd' })
    ])
    await expect.poll(() => memberIds(atA)).toEqual([b.peerId, c.peerId].sort())
    await expect.poll(() => memberIds(atB)).toEqual([a.peerId, c.peerId].sort())
    await expect.poll(() => memberIds(atC)).toEqual([a.peerId, b.peerId].sort())
    const bAtA = atA.members().find(m => m.peerId === b.peerId)
    expect(bAtA?.relays).toEqual([idOf(r3)])
    expect(text(bAtA?.metadata ?? new Uint8Array())).toBe('bob')

    // A holds no reservation on r3 and does not have it configured: the record names it
    const link = await atA.connect(b.peerId)
    expect(link.status().relayPeerId).toBe(idOf(r3))
    const heard: string[] = []
    atB.addEventListener('message', evt => { heard.push(`${evt.detail.from}:${text(evt.detail.data)}`) })
    await atA.send('across the fleet')
    await expect.poll(() => heard).toEqual([`${a.peerId}:across the fleet`])
  })

  it('a killed relay\'s members leave every view within the TTL, and one that reserves elsewhere comes back', async () => {
    const dying = await startRelay(fleetArgs({ redis: redisUrlOf(r1), presenceTtlSeconds: PRESENCE_TTL_SECONDS }))
    try {
      const a = await startPeer([r1])
      const b = await startPeer([r3])
      // c has only the relay that dies; d has a second relay to move to
      const c = await startPeer([dying])
      const d = await startPeer([dying, r2])
      const atA = await a.join('kill')
      const atB = await b.join('kill')
      await c.join('kill')
      await d.join('kill')
      await expect.poll(() => memberIds(atA)).toEqual([b.peerId, c.peerId, d.peerId].sort())
      await expect.poll(() => memberIds(atB)).toEqual([a.peerId, c.peerId, d.peerId].sort())
      const leftA: string[] = []
      atA.addEventListener('leave', evt => { leftA.push(evt.detail.peerId) })

      await dying.kill()
      await expect.poll(() => leftA).toContain(c.peerId)
      await expect.poll(() => memberIds(atB)).toEqual([a.peerId, d.peerId].sort())
      // d reserved on r2 and joined there again: it is held by r2 alone now
      await expect.poll(() => atA.members().find(m => m.peerId === d.peerId)?.relays).toEqual([idOf(r2)])
      await expect.poll(() => atB.members().find(m => m.peerId === d.peerId)?.relays).toEqual([idOf(r2)])
      expect(memberIds(atA)).toEqual([b.peerId, d.peerId].sort())
    } finally {
      await peers.stopAll()
      await dying.stop()
    }
  })

  it('connect() to a peer on a relay we do not use finds it with LOOKUP, outside any room', async () => {
    const a = await startPeer([r1])
    const b = await startPeer([r3])
    const incoming = new Promise<string>(resolve => {
      b.addEventListener('link', evt => {
        evt.detail.addEventListener('message', msg => { resolve(text(msg.detail)) }, { once: true })
      }, { once: true })
    })
    const link = await a.connect(b.peerId)
    expect(link.status().relayPeerId).toBe(idOf(r3))
    await link.send('looked up')
    expect(await incoming).toBe('looked up')
  })

  it('connect() reports DIRECTORY_UNAVAILABLE when our relays cannot look the peer up while their Redis is down', async () => {
    const redis = await startRedisServer()
    const args = fleetArgs({ redis: redis.url, presenceTtlSeconds: PRESENCE_TTL_SECONDS })
    const [near, far] = await Promise.all([startRelay(args), startRelay(args)])
    try {
      const a = await startPeer([near])
      const b = await startPeer([far])
      await redis.kill()
      expect(await codeOf(a.connect(b.peerId))).toBe('DIRECTORY_UNAVAILABLE')
    } finally {
      await peers.stopAll()
      await Promise.all([near.stop(), far.stop()])
    }
  })
})

describe('autoConnect', () => {
  it('links every member to every other, each pair once, across relays', async () => {
    const a = await startPeer([r1])
    const b = await startPeer([r2])
    const c = await startPeer([r3])
    const rooms = await Promise.all([a, b, c].map(async p => p.join('mesh', { autoConnect: true })))
    for (const [i, p] of [a, b, c].entries()) {
      const others = [a, b, c].filter(o => o !== p).map(o => o.peerId).sort()
      await expect.poll(() => p.links().filter(l => !l.closed).map(l => l.remotePeerId).sort()).toEqual(others)
      // a room forwards the messages of its members only: each must see the others first
      await expect.poll(() => rooms[i] === undefined ? [] : memberIds(rooms[i])).toEqual(others)
    }
    const heard = rooms.map(() => [] as string[])
    rooms.forEach((room, i) => { room.addEventListener('message', evt => { heard[i]?.push(text(evt.detail.data)) }) })
    await Promise.all(rooms.map(async (room, i) => { await room.send(`from ${i}`) }))
    await expect.poll(() => heard.map(h => [...h].sort())).toEqual([['from 1', 'from 2'], ['from 0', 'from 2'], ['from 0', 'from 1']])
    // only the lower ID dialled: every link is outbound on exactly one side
    for (const p of [a, b, c]) {
      for (const l of p.links()) {
        expect(l.direction).toBe(p.peerId < l.remotePeerId ? 'outbound' : 'inbound')
      }
    }
  })
})

/** The Redis URL the fleet's relays were started with. */
function redisUrlOf (relay: RelayProcess): string {
  const args = relay.process.spawnargs
  return args[args.indexOf('--redis') + 1] ?? ''
}
