/**
 * Rooms on a relay started with an auth public key: a relay token's `rooms` claim
 * limits the rooms its peer may join; a token without it covers every room.
 */
import '../../src/node-compat.js'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { RoomEvent } from '../../src/rooms/pb/rooms.js'
import { topicHex } from '../../src/rooms/records.js'
import { AuthResponse } from '../../src/serve/pb/auth.js'
import { Status, reserve } from '../hostile/clients.js'
import { RelayTestbed } from '../testbed.js'
import { createIssuer, present, tokenFor, type Issuer } from '../tokens.js'
import { startRoomPeer, topicOf, type RoomPeer, type RoomSession } from './room-client.js'
import type { Relay } from '../../src/index.js'

const bed = new RelayTestbed()
const text = (s: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(s)
const kitchen = topicOf('kitchen')
const cellar = topicOf('cellar')

beforeEach(async () => { await bed.setUp('lifeline-relay-rooms-auth-') })
afterEach(async () => { await bed.tearDown() })

async function startRelay (): Promise<{ relay: Relay, addr: string, issuer: Issuer }> {
  const issuer = await createIssuer(bed.dir)
  const relay = await bed.startRelay({ authPublicKeyFiles: [issuer.publicKeyFile] })
  const [addr] = relay.multiaddrs
  if (addr === undefined) {
    throw new Error('relay reported no address')
  }
  return { relay, addr, issuer }
}

/** A peer that presented a token with `rooms` (no claim when undefined) and reserved. */
async function admitted (addr: string, issuer: Issuer, rooms?: Uint8Array[]): Promise<RoomPeer> {
  const peer = await startRoomPeer()
  bed.peers.push(peer.node)
  const answer = await present(peer.node, addr, await tokenFor(issuer.privateKey, peer.id, rooms === undefined ? {} : { rooms: rooms.map(topicHex) }))
  expect(answer.status).toBe(AuthResponse.Status.OK)
  expect(await reserve(peer.node, addr, AbortSignal.timeout(10_000))).toBe(Status.OK)
  return peer
}

async function firstEvent (session: RoomSession): Promise<RoomEvent> {
  await expect.poll(() => session.events.length).toBeGreaterThan(0)
  const [event] = session.events
  if (event === undefined) {
    throw new Error('no event')
  }
  return event
}

describe('rooms with relay tokens', () => {
  it('lets a token with a rooms claim join the rooms it lists and refuses others with NOT_AUTHORIZED', async () => {
    const { relay, addr, issuer } = await startRelay()
    const limited = await admitted(addr, issuer, [kitchen])

    const inKitchen = await limited.join(addr, await limited.sign({ topic: kitchen, metadata: text('ada') }))
    expect((await firstEvent(inKitchen)).type).toBe(RoomEvent.Type.SNAPSHOT)

    const inCellar = await limited.join(addr, await limited.sign({ topic: cellar }))
    expect(await firstEvent(inCellar)).toMatchObject({
      type: RoomEvent.Type.ERROR,
      code: RoomEvent.ErrorCode.NOT_AUTHORIZED,
      message: expect.stringContaining('the relay token does not cover this room') as string
    })
    await expect.poll(() => inCellar.ended).toBe(true)
    // the refusal ended only the room it was about
    expect(inKitchen.ended).toBe(false)
    expect(relay.stats().rooms).toMatchObject({ members: 1, rooms: 1 })
    expect(relay.stats().counters).toMatchObject({ 'rooms-joined': 1, 'rooms-refused-room-not-covered': 1 })
  })

  it('lets a token without a rooms claim join every room', async () => {
    const { relay, addr, issuer } = await startRelay()
    const unlimited = await admitted(addr, issuer)

    const inKitchen = await unlimited.join(addr, await unlimited.sign({ topic: kitchen }))
    const inCellar = await unlimited.join(addr, await unlimited.sign({ topic: cellar }))
    expect((await firstEvent(inKitchen)).type).toBe(RoomEvent.Type.SNAPSHOT)
    expect((await firstEvent(inCellar)).type).toBe(RoomEvent.Type.SNAPSHOT)
    expect(relay.stats().rooms).toMatchObject({ members: 2, rooms: 2 })
    expect(relay.stats().counters['rooms-refused-room-not-covered']).toBeUndefined()
  })

  it('applies a later token\'s rooms from the next JOIN on: an update of a room it drops is refused, LOOKUP stays', async () => {
    const { relay, addr, issuer } = await startRelay()
    const peer = await admitted(addr, issuer, [kitchen])
    const other = await admitted(addr, issuer, [cellar])
    const inKitchen = await peer.join(addr, await peer.sign({ topic: kitchen, metadata: text('ada'), seq: 1n }))
    expect((await firstEvent(inKitchen)).type).toBe(RoomEvent.Type.SNAPSHOT)

    // the new token covers the cellar only: it replaces the grant on the connection
    expect((await present(peer.node, addr, await tokenFor(issuer.privateKey, peer.id, { rooms: [topicHex(cellar)] }))).status).toBe(AuthResponse.Status.OK)
    const inCellar = await peer.join(addr, await peer.sign({ topic: cellar }))
    expect((await firstEvent(inCellar)).type).toBe(RoomEvent.Type.SNAPSHOT)

    await inKitchen.send({ join: { member: await peer.sign({ topic: kitchen, metadata: text('ada (away)'), seq: 2n }) } })
    await expect.poll(() => inKitchen.error()).toMatchObject({ code: RoomEvent.ErrorCode.NOT_AUTHORIZED })
    await expect.poll(() => inKitchen.ended).toBe(true)
    expect(relay.stats().counters).toMatchObject({ 'rooms-joined': 2, 'rooms-left': 1, 'rooms-refused-room-not-covered': 1 })

    // LOOKUP is not about a room: any granted connection may ask
    expect((await peer.lookup(addr, other.node.peerId)).type).toBe(RoomEvent.Type.LOOKUP)
  })
})
