/**
 * Rooms across a fleet of relays sharing a real Redis: members reserved on
 * different relays see each other, LOOKUP finds a peer reserved elsewhere, a relay
 * killed without a goodbye drops out within the presence TTL, and a Redis outage
 * leaves each relay serving its own members until Redis is back.
 */
import '../../src/node-compat.js'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { RoomEvent } from '../../src/rooms/pb/rooms.js'
import { RelayTestbed } from '../testbed.js'
import { killAll, startCli, type RunningCli } from '../cli-process.js'
import { startRedisServer, stopRedisServers, type RedisServer } from './redis-server.js'
import { startRoomPeer, topicOf, type RoomPeer } from './room-client.js'
import type { Relay } from '../../src/index.js'

/**
 * A short presence TTL, so a dead relay's members go in about two seconds; the
 * polls wait up to 20 s (vitest.config.ts), ten times that.
 */
const TTL_SECONDS = 2

const bed = new RelayTestbed()
const children: RunningCli[] = []
let redis: RedisServer

beforeEach(async () => {
  await bed.setUp('lifeline-relay-fleet-')
  redis = await startRedisServer()
})
afterEach(async () => {
  await killAll(children)
  await bed.tearDown()
  await stopRedisServers()
})

async function startRelay (name: string): Promise<{ relay: Relay, addr: string }> {
  const relay = await bed.startRelay({ keyFile: join(bed.dir, `${name}.key`), redis: redis.url, presenceTtlSeconds: TTL_SECONDS })
  const [addr] = relay.multiaddrs
  if (addr === undefined) {
    throw new Error('relay reported no address')
  }
  expect(relay.stats().rooms.directory).toBe('up')
  return { relay, addr }
}

async function peer (relayAddr?: string): Promise<RoomPeer> {
  const started = await startRoomPeer(relayAddr)
  bed.peers.push(started.node)
  return started
}

describe('rooms across relays sharing Redis', () => {
  it('shows members of different relays to each other, finds peers reserved elsewhere, and tells leaving across relays', async () => {
    const r1 = await startRelay('r1')
    const r2 = await startRelay('r2')
    const r3 = await startRelay('r3')
    const topic = topicOf('fleet')
    const a = await peer(r1.addr)
    const b = await peer(r2.addr)
    const c = await peer(r3.addr)

    const sa = await a.join(r1.addr, await a.sign({ topic }))
    await expect.poll(() => sa.snapshots().length).toBe(1)
    const sb = await b.join(r2.addr, await b.sign({ topic }))
    // B's SNAPSHOT lists A (from Redis), A hears of B (pub/sub)
    await expect.poll(() => sb.peers()).toEqual([a.id, b.id].sort())
    await expect.poll(() => sa.peers()).toEqual([a.id, b.id].sort())
    const sc = await c.join(r3.addr, await c.sign({ topic }))
    const all = [a.id, b.id, c.id].sort()
    await expect.poll(() => sc.peers()).toEqual(all)
    await expect.poll(() => sa.peers()).toEqual(all)
    await expect.poll(() => sb.peers()).toEqual(all)
    // each member is listed with the relay that holds it
    expect(sa.view().has(`${c.id}/${r3.relay.peerId}`)).toBe(true)

    // LOOKUP on relay 1 of a peer reserved only on relay 3
    const found = await a.lookup(r1.addr, c.node.peerId)
    expect(found.type).toBe(RoomEvent.Type.LOOKUP)
    expect(found.members.map(m => m.relayAddrs)).toEqual([r3.relay.multiaddrs])

    // B leaves by closing its stream; C's connection dies
    await sb.close()
    await expect.poll(() => sa.peers()).toEqual([a.id, c.id].sort())
    await expect.poll(() => sc.peers()).toEqual([a.id, c.id].sort())
    c.node.getConnections()[0]?.abort(new Error('killed by the test'))
    await expect.poll(() => sa.peers()).toEqual([a.id])
  })

  it('drops the members of a relay killed without a goodbye within the presence TTL', async () => {
    const r1 = await startRelay('r1')
    const cli = startCli(['--port', '0', '--key', join(bed.dir, 'doomed.key'), '--redis', redis.url, '--presence-ttl-seconds', String(TTL_SECONDS)])
    children.push(cli)
    const [doomedAddr = ''] = await cli.firstLines(1)
    const topic = topicOf('fleet')
    const a = await peer(r1.addr)
    const d = await peer(doomedAddr)

    const sa = await a.join(r1.addr, await a.sign({ topic }))
    const sd = await d.join(doomedAddr, await d.sign({ topic }))
    await expect.poll(() => sa.peers()).toEqual([a.id, d.id].sort())
    await expect.poll(() => sd.peers()).toEqual([a.id, d.id].sort())
    expect((await a.lookup(r1.addr, d.node.peerId)).members).toHaveLength(1)

    // SIGKILL: the relay publishes nothing, its Redis entries only expire
    cli.child.kill('SIGKILL')
    await cli.exited
    await expect.poll(() => sa.peers()).toEqual([a.id])
    expect(sa.events.at(-1)?.type).toBe(RoomEvent.Type.LEFT)
    await expect.poll(async () => (await a.lookup(r1.addr, d.node.peerId)).members).toEqual([])
  })

  it('keeps serving its own members while Redis is down, and shows the fleet again when it is back', async () => {
    const r1 = await startRelay('r1')
    const r2 = await startRelay('r2')
    const topic = topicOf('fleet')
    const a = await peer(r1.addr)
    const b = await peer(r2.addr)
    const sa = await a.join(r1.addr, await a.sign({ topic }))
    const sb = await b.join(r2.addr, await b.sign({ topic }))
    await expect.poll(() => sa.peers()).toEqual([a.id, b.id].sort())

    await redis.kill()
    await expect.poll(() => r1.relay.stats().rooms.directory).toBe('down')
    // A is told its view shrank to relay 1's own members
    await expect.poll(() => sa.snapshots().at(-1)?.partial).toBe(true)
    expect(sa.peers()).toEqual([a.id])

    // a new member on relay 1 is served: a partial SNAPSHOT, and A hears of it
    const a2 = await peer(r1.addr)
    const sa2 = await a2.join(r1.addr, await a2.sign({ topic }))
    await expect.poll(() => sa2.snapshots().length).toBe(1)
    expect(sa2.snapshots()[0]?.partial).toBe(true)
    expect(sa2.peers()).toEqual([a.id, a2.id].sort())
    await expect.poll(() => sa.peers()).toEqual([a.id, a2.id].sort())

    // a peer held here is still found; one held elsewhere cannot be
    expect((await a.lookup(r1.addr, a2.node.peerId)).members).toHaveLength(1)
    const remote = await a.lookup(r1.addr, b.node.peerId)
    expect(remote.type).toBe(RoomEvent.Type.ERROR)
    expect(remote.code).toBe(RoomEvent.ErrorCode.DIRECTORY_UNAVAILABLE)

    await redis.restart()
    await expect.poll(() => r1.relay.stats().rooms.directory).toBe('up')
    // a full SNAPSHOT with both relays' members, on both sides
    const everyone = [a.id, a2.id, b.id].sort()
    await expect.poll(() => sa.snapshots().at(-1)?.partial === false && sa.peers().join()).toBe(everyone.join())
    await expect.poll(() => sb.peers()).toEqual(everyone)
    const back = await a.lookup(r1.addr, b.node.peerId)
    expect(back.members.map(m => m.relayAddrs)).toEqual([r2.relay.multiaddrs])
    // up at start, down, up again
    expect(r1.relay.stats().counters).toMatchObject({ 'rooms-directory-up': 2, 'rooms-directory-down': 1 })
  })
})
