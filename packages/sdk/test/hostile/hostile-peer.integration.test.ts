/**
 * A victim peer (its own process, see victim-child.mjs) against crafted peers that
 * speak the link protocol badly, through a real relay. Every attack must end with the
 * hostile path or link closed, the victim's heap under VICTIM_HEAP_GROWTH_BOUND, and an
 * honest link that kept delivering in order throughout. The heap figures of each attack
 * are printed as a table.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { identify } from '@libp2p/identify'
import type { Stream } from '@libp2p/interface'
import { noise } from '@libp2p/noise'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  CONTROL_FRAMES_BURST,
  DEFAULT_RECEIVE_WINDOW_BYTES,
  DEFAULT_SEND_BUFFER_BYTES,
  HANDSHAKE_TIMEOUT_MS,
  MAX_PATHS_PER_LINK,
  PATH_WRITE_STALL_MS
} from '../../src/constants.js'
import { createPeer, LINK_PROTOCOL, type Peer } from '../../src/index.js'
import { encodeFrame, FrameDecoder, FrameType, type Frame } from '../../src/internal/link/frame.js'
import { startRelay, type RelayProcess } from '../relay-process.js'

const MiB = 1024 * 1024
/**
 * What the victim's live heap (sampled after a GC) may grow by during one attack: one receive window (what a
 * link may hold by design) or one send buffer, plus 48 MiB for libp2p's own buffers and
 * garbage not yet collected. Without the byte limits the same attacks grow it without
 * bound (an out-of-order flood held 8192 messages of up to 8 MiB each).
 */
const VICTIM_HEAP_GROWTH_BOUND = Math.max(DEFAULT_RECEIVE_WINDOW_BYTES, DEFAULT_SEND_BUFFER_BYTES) + 48 * MiB
/** Inbound links the victim accepts, small so the flood of link attempts reaches the cap. */
const VICTIM_MAX_INBOUND_LINKS = 16
/** Link attempts of the flood: HOSTILE_FLOOD_PEERS peers opening streams in turn. */
const FLOOD_ATTEMPTS = 10_000
const FLOOD_PEERS = 40
/**
 * A never-reading peer is cut off by the write-stall deadline; a generous bound on
 * when its stream must have closed.
 */
const CUT_OFF_BOUND_MS = PATH_WRITE_STALL_MS * 2
/**
 * After an attack the honest link has delivered everything sent so far within this
 * long. Its path may have died under the load (every peer here shares one source
 * address, so the relay's per-source limits hit the honest peer as well); its route
 * is then re-dialled with a backoff of at most ROUTE_BACKOFF_MAX_MS (10 s): twice that
 * plus the dial timeout, doubled for a slow machine.
 */
const HONEST_CATCH_UP_BOUND_MS = 60_000

const VICTIM = fileURLToPath(new URL('./victim-child.mjs', import.meta.url))

interface HeapRow { attack: string, before: number, max: number, maxLive: number, after: number }
const heapRows: HeapRow[] = []

let relay: RelayProcess
let victim: ChildProcess
let victimId: string
let honest: Peer
let honestSent = 0
let stopHonest = false
let honestSending: Promise<void>
const hostiles: Libp2p[] = []
let requestId = 0

async function ask<T> (type: string, args: Record<string, unknown> = {}): Promise<T> {
  const id = ++requestId
  return new Promise<T>((resolve, reject) => {
    const onMessage = (message: { id?: number, result?: T, error?: string }): void => {
      if (message.id !== id) {
        return
      }
      victim.off('message', onMessage)
      if (message.error !== undefined) {
        reject(new Error(message.error))
      } else {
        resolve(message.result as T)
      }
    }
    victim.on('message', onMessage)
    victim.send({ type, id, ...args })
  })
}

interface VictimState {
  links: number
  honest: Record<string, { received: number, inOrder: boolean }>
  sends: Record<string, { taken: number, error?: string }>
}

async function hostilePeer (): Promise<Libp2p> {
  const node = await createLibp2p({
    transports: [webSockets(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: { denyDialMultiaddr: () => false },
    services: { identify: identify() }
  })
  hostiles.push(node)
  // its relay connection first, so a flood's dials do not all reach the relay at once
  await node.dial(multiaddr(relay.multiaddr))
  return node
}

interface RawLink {
  stream: Stream
  closed: Promise<void>
  isClosed(): boolean
  frames: Frame[]
  write(frame: Frame): Promise<void>
  hello(window?: number): Promise<void>
}

/** A link stream to the victim from `node`, written frame by frame. */
async function rawLink (node: Libp2p): Promise<RawLink> {
  const stream = await node.dialProtocol(multiaddr(`${relay.multiaddr}/p2p-circuit/p2p/${victimId}`), LINK_PROTOCOL, {
    runOnLimitedConnection: true
  })
  // a stream reset before we listen shows it only in its status
  let closed = stream.status !== 'open'
  const closedPromise = new Promise<void>(resolve => {
    if (closed) {
      resolve()
    }
    stream.addEventListener('close', () => { closed = true; resolve() }, { once: true })
  })
  const frames: Frame[] = []
  const decoder = new FrameDecoder(16 * MiB)
  stream.addEventListener('message', e => { frames.push(...decoder.push(e.data)) })
  const write = async (frame: Frame): Promise<void> => {
    for (const chunk of encodeFrame(frame)) {
      if (closed || stream.status !== 'open' || stream.writeStatus !== 'writable') {
        return
      }
      if (!stream.send(chunk)) {
        await Promise.race([
          new Promise(resolve => { stream.addEventListener('drain', resolve, { once: true }) }),
          closedPromise
        ])
      }
    }
  }
  return {
    stream,
    closed: closedPromise,
    isClosed: () => closed || stream.status !== 'open',
    frames,
    write,
    hello: async (window = DEFAULT_RECEIVE_WINDOW_BYTES) => {
      await write({
        type: FrameType.HELLO,
        session: crypto.getRandomValues(new Uint8Array(8)),
        base: 0,
        peerSession: new Uint8Array(8),
        nextExpected: 0,
        window,
        maxMessageBytes: 8 * MiB
      })
      // the victim acknowledges on choosing the path: by then it has announced the link
      await expect.poll(() => frames.some(f => f.type === FrameType.ACK), { timeout: 10_000 }).toBe(true)
    }
  }
}

/** Run `attack` and record the victim's heap before (after a GC), at most during, and after (after a GC). */
async function measured (attack: string, run: () => Promise<void>): Promise<HeapRow> {
  const before = await ask<{ heapUsed: number }>('heap', { gc: true })
  await run()
  const during = await ask<{ maxHeap: number, maxLive: number }>('heap')
  const after = await ask<{ heapUsed: number }>('heap', { gc: true })
  const row = { attack, before: before.heapUsed, max: during.maxHeap, maxLive: during.maxLive, after: after.heapUsed }
  heapRows.push(row)
  expect(row.maxLive - row.before).toBeLessThan(VICTIM_HEAP_GROWTH_BOUND)
  await expectHonestInOrder()
  return row
}

/** The honest link delivered everything sent so far, in order. */
async function expectHonestInOrder (): Promise<void> {
  const sent = honestSent
  await expect.poll(async () => (await ask<VictimState>('state')).honest[honest.peerId]?.received ?? 0, { timeout: HONEST_CATCH_UP_BOUND_MS })
    .toBeGreaterThanOrEqual(sent)
  expect((await ask<VictimState>('state')).honest[honest.peerId]?.inOrder).toBe(true)
}

const payload = (bytes: number): Uint8Array => new Uint8Array(bytes).fill(0xab)

/** 1 MiB messages a flood sends at most: 256 MiB, far past any window. */
const FLOOD_MESSAGES = 256

/** Send 1 MiB messages numbered from `firstSeq` until the victim closes the stream; returns how many went. */
async function floodUntilClosed (raw: RawLink, firstSeq: number): Promise<number> {
  let sent = 0
  while (!raw.isClosed() && sent < FLOOD_MESSAGES) {
    await raw.write({ type: FrameType.DATA, seq: firstSeq + sent++, payload: payload(MiB) })
  }
  await raw.closed
  return sent
}

beforeAll(async () => {
  relay = await startRelay()
  victim = fork(VICTIM, [relay.multiaddr, String(VICTIM_MAX_INBOUND_LINKS)], { execArgv: ['--expose-gc'] })
  victimId = await new Promise<string>((resolve, reject) => {
    victim.once('message', (m: { type: string, peerId: string }) => { resolve(m.peerId) })
    victim.once('exit', code => { reject(new Error(`victim exited with ${String(code)}`)) })
  })
  honest = await createPeer({ relays: [relay.multiaddr], allowPrivateAddresses: true, direct: false })
  await honest.start()
  await honest.online()
  await ask('honest', { peerId: honest.peerId })
  const link = await honest.connect(victimId)
  // an honest app sending all through the attacks, every message numbered
  honestSending = (async () => {
    while (!stopHonest) {
      await link.send(String(honestSent))
      honestSent++
      await new Promise(resolve => setTimeout(resolve, 5))
    }
  })()
}, 60_000)

afterAll(async () => {
  stopHonest = true
  await honestSending
  console.log(`victim heap + array buffers per attack (MiB; bound on growth ${(VICTIM_HEAP_GROWTH_BOUND / MiB).toFixed(0)} MiB):\n` +
    ['attack                          before    max  max live  after',
      ...heapRows.map(r => `${r.attack.padEnd(30)} ${[r.before, r.max, r.maxLive, r.after].map((v, i) => (v / MiB).toFixed(1).padStart([7, 6, 9, 6][i] ?? 6)).join(' ')}`)
    ].join('\n'))
  await Promise.all(hostiles.map(async h => { await h.stop() }))
  await honest.stop()
  victim.disconnect()
  await relay.stop()
}, 60_000)

describe('a victim peer under hostile peers on the link protocol', () => {
  it('closes garbled, oversized and misframed streams', async () => {
    await measured('garbled and oversized frames', async () => {
      const streams = await Promise.all([
        // unknown frame type
        new Uint8Array([0, 0, 0, 5, 99, 1, 2, 3, 4]),
        // a frame announcing 2 GiB
        new Uint8Array([0x7f, 0xff, 0xff, 0xff, 2]),
        // a HELLO of the wrong length
        new Uint8Array([0, 0, 0, 3, FrameType.HELLO, 1, 2]),
        // an empty frame
        new Uint8Array([0, 0, 0, 0])
      ].map(async bytes => {
        const raw = await rawLink(await hostilePeer())
        raw.stream.send(bytes)
        return raw
      }))
      await Promise.all(streams.map(async s => { await s.closed }))
    })
  })

  it('drops a link that never says HELLO once the handshake deadline passes', async () => {
    await measured('no HELLO', async () => {
      const raw = await rawLink(await hostilePeer())
      await raw.closed
      // the victim said HELLO and pinged, and nothing else: no link, no ack
      expect(raw.frames.filter(f => f.type === FrameType.HELLO)).toHaveLength(1)
      expect(raw.frames.every(f => f.type === FrameType.HELLO || f.type === FrameType.PING)).toBe(true)
    })
  }, HANDSHAKE_TIMEOUT_MS * 10)

  it('cuts off an out-of-order flood once it passes the receive window', async () => {
    await measured('out-of-order flood, 1 MiB each', async () => {
      const raw = await rawLink(await hostilePeer())
      await raw.hello()
      // seq 0 never comes: everything is held back, until the window is full
      expect(await floodUntilClosed(raw, 1)).toBeLessThan(FLOOD_MESSAGES)
    })
  })

  it('cuts off a peer that sends past the window while the app reads nothing', async () => {
    await measured('in-order flood, slow app', async () => {
      const raw = await rawLink(await hostilePeer())
      await raw.hello()
      expect(await floodUntilClosed(raw, 0)).toBeLessThan(FLOOD_MESSAGES)
      // nothing was acknowledged: the app took nothing
      expect(raw.frames.filter(f => f.type === FrameType.ACK && f.nextExpected > 0)).toEqual([])
    })
  })

  it('holds its sends within the send buffer for a peer that never reads, and cuts it and a ping flooder off', async () => {
    await measured('never reads; ping flood', async () => {
      const sink = await rawLink(await hostilePeer())
      await sink.hello(0xffff_ffff)
      sink.stream.pause()
      const flooder = await rawLink(await hostilePeer())
      await flooder.hello()
      flooder.stream.pause()
      const sinkId = hostiles.at(-2)?.peerId.toString() ?? ''
      await ask('send', { to: sinkId, bytes: MiB, count: 64 })
      // PINGs as fast as the stream takes them, never reading a PONG
      let pings = 0
      const flooding = (async () => {
        while (!flooder.isClosed()) {
          await flooder.write({ type: FrameType.PING, nonce: pings++ })
          if (pings % 100 === 0) {
            await new Promise(resolve => setTimeout(resolve, 1))
          }
        }
      })()
      await Promise.all([sink.closed, flooder.closed].map(async closed => {
        await Promise.race([closed, new Promise((resolve, reject) => setTimeout(() => { reject(new Error('not cut off')) }, CUT_OFF_BOUND_MS))])
      }))
      await flooding
      const sends = (await ask<VictimState>('state')).sends[sinkId]
      // the victim's app was held back by its send buffer, not let to queue 64 MiB
      expect(sends?.taken).toBeLessThanOrEqual(DEFAULT_SEND_BUFFER_BYTES / MiB + 1)
      // it sent more than its allowance before it was cut off
      expect(pings).toBeGreaterThan(CONTROL_FRAMES_BURST)
    })
  }, CUT_OFF_BOUND_MS * 2)

  it('refuses link attempts beyond its caps: 10,000 of them from 40 peers', async () => {
    await measured('10,000 link attempts', async () => {
      const nodes: Libp2p[] = []
      for (let n = 0; n < FLOOD_PEERS; n++) {
        nodes.push(await hostilePeer())
      }
      const opened: RawLink[] = []
      let failed = 0
      await Promise.all(nodes.map(async (node, n) => {
        for (let i = 0; i < FLOOD_ATTEMPTS / FLOOD_PEERS; i++) {
          let raw: RawLink
          try {
            raw = await rawLink(node)
          } catch {
            failed++
            continue
          }
          opened.push(raw)
          // half say HELLO and stay, half say nothing; the victim closes what it refuses
          if ((n + i) % 2 === 0) {
            await raw.write({
              type: FrameType.HELLO,
              session: new Uint8Array(8).fill(n + 1),
              base: 0,
              peerSession: new Uint8Array(8),
              nextExpected: 0,
              window: DEFAULT_RECEIVE_WINDOW_BYTES,
              maxMessageBytes: MiB
            })
          }
        }
      }))
      expect(opened.length + failed).toBe(FLOOD_ATTEMPTS)
      // what the victim kept: at most its cap of links, each with at most its cap of paths
      // (silent streams go at the handshake deadline)
      await expect.poll(() => opened.filter(r => !r.isClosed()).length, { timeout: HANDSHAKE_TIMEOUT_MS * 4 })
        .toBeLessThanOrEqual(VICTIM_MAX_INBOUND_LINKS * MAX_PATHS_PER_LINK)
      expect((await ask<VictimState>('state')).links).toBeLessThanOrEqual(VICTIM_MAX_INBOUND_LINKS)
    })
  }, 300_000)
})
