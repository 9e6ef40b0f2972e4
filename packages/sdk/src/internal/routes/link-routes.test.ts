/**
 * A link's routes against a fake network on a fake clock: the race behind connect()
 * and its public error codes, spare upkeep, backoff after failures, the direct upgrade
 * and its retry, the events the routes listen for, and the accepting side restoring a
 * link that lost every path.
 */
import type { Connection, Libp2pEvents, PeerId, Stream } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { TypedEventEmitter } from 'main-event'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  DIRECT_RETRY_BASE_MS,
  ROUTE_BACKOFF_BASE_MS,
  ROUTE_CHECK_INTERVAL_MS,
  ROUTE_STAGGER_MS,
  SPARE_ROUTES
} from '../../constants.js'
import { LifelineError } from '../../errors.js'
import type { LinkDirection, LinkPath } from '../../types.js'
import type { LinkPathEvents } from '../link/link.js'
import { parseRelayAddress, relayOf, type RelayAddress } from '../util/parse.js'
import { LinkRoutes, type RoutedLink } from './link-routes.js'
import { codeOf } from '../../../test/support.js'

const RELAYS = [
  '/ip4/10.0.0.1/tcp/4001/ws/p2p/12D3KooWHFrmLWTTDD4NodngtRMEVYtDGW3mcpGXNzJZeRTMM4Aw',
  '/ip4/10.0.0.2/tcp/4001/ws/p2p/12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq',
  '/ip4/10.0.0.3/tcp/4001/ws/p2p/12D3KooWPjceQrSwdWXPyLLeABRXmuqt69Rg3sBYbU1Nft9HyQ6X'
].map(parseRelayAddress)
const [R1, R2, R3] = RELAYS as [RelayAddress, RelayAddress, RelayAddress]
const REMOTE = peerIdFromString('12D3KooWRvKxy16gGU3gmxRSXoaY8xqWEGEvASgS43gR1BSxs4dk')

interface FakeConnection {
  id: string
  direct: boolean
  status: 'open' | 'closed'
  remoteAddr: Multiaddr
  remotePeer: PeerId
  close(): Promise<void>
}

let ids = 0
function connection (remoteAddr: Multiaddr, remotePeer: PeerId, direct = false): Connection {
  const c: FakeConnection = {
    id: `c${++ids}`,
    direct,
    status: 'open',
    remoteAddr,
    remotePeer,
    close: async () => { c.status = 'closed'; await Promise.resolve() }
  }
  return c as unknown as Connection
}

function stream (): Stream & { aborted: boolean } {
  const s = { aborted: false, abort: () => { s.aborted = true } }
  return s as unknown as Stream & { aborted: boolean }
}

/** The link as the routes see it: a path is usable as soon as it is attached. */
class FakeLink implements RoutedLink {
  readonly direction: LinkDirection
  readonly pathEvents = new TypedEventEmitter<LinkPathEvents>()
  closed = false
  established = false
  directUpReports = 0
  private readonly paths = new Map<string, Connection>()

  constructor (direction: LinkDirection) {
    this.direction = direction
  }

  get usable (): boolean {
    return this.paths.size > 0
  }

  connections (): Connection[] {
    return [...this.paths.values()]
  }

  hasPathOn (c: Connection): boolean {
    return this.paths.has(c.id)
  }

  attach (_stream: Stream, c: Connection): void {
    this.paths.set(c.id, c)
    this.established = true
  }

  reportDirectUp (): void {
    this.directUpReports++
  }

  /** The path on `c` closes with its connection, as when a circuit or WebRTC connection dies. */
  lose (c: Connection | undefined): void {
    if (c === undefined || !this.paths.delete(c.id)) {
      throw new Error('no such path')
    }
    void c.close()
    const tier: LinkPath = c.direct ? 'direct' : 'relayed'
    this.pathEvents.safeDispatchEvent('path-lost', { detail: { tier, remaining: this.paths.size } })
  }

  relays (): Array<string | undefined> {
    return this.connections().filter(c => !c.direct).map(c => relayOf(c.remoteAddr))
  }
}

/** What a relay does with a circuit to the remote. */
type RelayBehaviour = 'carries' | 'refuses' | 'down' | 'hangs'

interface Dial { to: 'relay' | 'circuit' | 'webrtc', relay: string | undefined, at: number }

class FakeNetwork {
  readonly events = new TypedEventEmitter<Pick<Libp2pEvents, 'connection:open'>>()
  readonly behaviour = new Map<string, RelayBehaviour>()
  readonly dials: Dial[] = []
  /** How long a circuit through a relay that carries takes, by relay (unset: no time at all). */
  readonly delay = new Map<string, number>()
  direct: 'opens' | 'fails' = 'fails'
  readonly relayConnections = new Map<string, Connection>()
  readonly remoteConnections: Connection[] = []
  private readonly t0 = Date.now()

  /** Whom the routes asked for relays, one entry per call. */
  readonly relaysAskedFor: string[] = []

  components (relays: RelayAddress[] | ((remote: PeerId) => RelayAddress[]) = RELAYS): ConstructorParameters<typeof LinkRoutes>[1] {
    return {
      events: this.events,
      dial: async (ma, { signal }) => this.dial(ma, signal),
      connectRelay: async (relay, { signal }) => this.dial(relay.multiaddr, signal),
      getConnections: peer => peer.equals(REMOTE)
        ? this.remoteConnections.filter(c => c.status === 'open')
        : [...this.relayConnections.values()].filter(c => c.remotePeer.equals(peer)),
      newStream: async () => Promise.resolve(stream()),
      relays: remote => {
        this.relaysAskedFor.push(remote.toString())
        return typeof relays === 'function' ? relays(remote) : relays
      },
      now: () => Date.now(),
      // the top of each jitter range: backoffs are exactly base x 2^n
      random: () => 1,
      log: logger('test:routes')
    }
  }

  circuitDials (): Array<[string | undefined, number]> {
    return this.dials.filter(d => d.to === 'circuit').map(d => [d.relay, d.at])
  }

  private async dial (ma: Multiaddr, signal: AbortSignal): Promise<Connection> {
    const text = ma.toString()
    const relay = relayOf(ma)
    const to = text.includes('/webrtc') ? 'webrtc' : text.includes('/p2p-circuit') ? 'circuit' : 'relay'
    this.dials.push({ to, relay: to === 'relay' ? RELAYS.find(r => r.text === text)?.peerId.toString() : relay, at: Date.now() - this.t0 })
    await Promise.resolve()
    if (to === 'webrtc') {
      if (this.direct === 'fails') {
        throw new Error('ICE failed')
      }
      const c = connection(multiaddr('/ip4/10.0.0.9/udp/1/webrtc-direct'), REMOTE, true)
      this.remoteConnections.push(c)
      return c
    }
    const relayAddress = to === 'relay' ? RELAYS.find(r => r.text === text) : RELAYS.find(r => r.peerId.toString() === relay)
    if (relayAddress === undefined) {
      throw new Error(`unknown relay in ${text}`)
    }
    const id = relayAddress.peerId.toString()
    const behaviour = this.behaviour.get(id) ?? 'carries'
    if (to === 'relay') {
      if (behaviour === 'down') {
        throw new Error('ECONNREFUSED')
      }
      const c = connection(relayAddress.multiaddr, relayAddress.peerId)
      this.relayConnections.set(id, c)
      return c
    }
    if (behaviour === 'refuses') {
      throw Object.assign(new Error('failed to connect via relay with status NO_RESERVATION'), { name: 'InvalidMessageError' })
    }
    await new Promise<void>((resolve, reject) => {
      const fail = (): void => { reject(new Error('aborted')) }
      if (signal.aborted) {
        fail()
        return
      }
      const delay = this.delay.get(id)
      if (behaviour === 'hangs') {
        signal.addEventListener('abort', fail, { once: true })
      } else if (delay === undefined) {
        resolve()
      } else {
        signal.addEventListener('abort', fail, { once: true })
        setTimeout(() => {
          signal.removeEventListener('abort', fail)
          resolve()
        }, delay)
      }
    })
    const c = connection(multiaddr(`${relayAddress.text}/p2p-circuit/p2p/${REMOTE.toString()}`), REMOTE)
    this.remoteConnections.push(c)
    return c
  }
}

interface Harness {
  link: FakeLink
  net: FakeNetwork
  routes: LinkRoutes
}

const running: LinkRoutes[] = []

function harness (direction: LinkDirection, options: { direct?: boolean, relays?: RelayAddress[] | ((remote: PeerId) => RelayAddress[]), net?: FakeNetwork } = {}): Harness {
  const link = new FakeLink(direction)
  const net = options.net ?? new FakeNetwork()
  const routes = new LinkRoutes({ link, pathEvents: link.pathEvents, remote: REMOTE, direct: options.direct ?? false }, net.components(options.relays))
  running.push(routes)
  return { link, net, routes }
}

/** Give `link` a relayed path through `relay`, as if the remote had opened it. */
function pathThrough (h: Harness, relay: RelayAddress): Connection {
  const c = connection(multiaddr(`${relay.text}/p2p-circuit/p2p/${REMOTE.toString()}`), REMOTE)
  h.net.remoteConnections.push(c)
  h.link.attach(stream(), c)
  return c
}


const id = (r: RelayAddress): string => r.peerId.toString()

beforeEach(() => { vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] }) })
afterEach(() => {
  for (const routes of running.splice(0)) {
    routes.stop()
  }
  vi.useRealTimers()
})

describe('connect()', () => {
  it('resolves with the first route to carry the link; a slower one still running becomes the spare', async () => {
    const h = harness('outbound')
    h.net.delay.set(id(R1), ROUTE_STAGGER_MS + 100)
    h.net.delay.set(id(R2), 10)
    const connecting = h.routes.connect(new AbortController().signal)
    await vi.advanceTimersByTimeAsync(ROUTE_STAGGER_MS + 10)
    await connecting
    expect(h.link.relays()).toEqual([id(R2)])
    await vi.advanceTimersByTimeAsync(100)
    expect(h.link.relays().sort()).toEqual([id(R1), id(R2)].sort())
    // R3 was never needed
    expect(h.net.circuitDials().map(([relay]) => relay)).toEqual([id(R1), id(R2)])
  })

  it('reports PEER_UNREACHABLE when a relay answered but could not reach the remote', async () => {
    const h = harness('outbound')
    h.net.behaviour.set(id(R1), 'down')
    h.net.behaviour.set(id(R2), 'refuses')
    h.net.behaviour.set(id(R3), 'down')
    const connecting = codeOf(h.routes.connect(new AbortController().signal))
    await vi.advanceTimersByTimeAsync(0)
    expect(await connecting).toBe('PEER_UNREACHABLE')
  })

  it('reports RELAY_UNREACHABLE when no relay could be reached', async () => {
    const h = harness('outbound')
    for (const r of RELAYS) {
      h.net.behaviour.set(id(r), 'down')
    }
    const connecting = codeOf(h.routes.connect(new AbortController().signal))
    await vi.advanceTimersByTimeAsync(0)
    expect(await connecting).toBe('RELAY_UNREACHABLE')
    expect(h.net.circuitDials()).toEqual([])
  })

  it('reports ABORTED for the caller\'s signal and TIMEOUT for the SDK\'s deadline', async () => {
    for (const [reason, code] of [[undefined, 'ABORTED'], [new LifelineError('TIMEOUT', 'deadline'), 'TIMEOUT']] as const) {
      const h = harness('outbound')
      for (const r of RELAYS) {
        h.net.behaviour.set(id(r), 'hangs')
      }
      const controller = new AbortController()
      const connecting = codeOf(h.routes.connect(controller.signal))
      await vi.advanceTimersByTimeAsync(ROUTE_STAGGER_MS * 3)
      controller.abort(reason)
      expect(await connecting).toBe(code)
    }
  })
})

describe('relays for the remote', () => {
  it('races the relays given for this remote, asked afresh at each connect: a hint learnt between two connects is used by the second', async () => {
    let hinted: RelayAddress[] = []
    const h = harness('outbound', { relays: () => [R1, ...hinted] })
    h.net.behaviour.set(id(R1), 'refuses')
    const first = codeOf(h.routes.connect(new AbortController().signal))
    await vi.advanceTimersByTimeAsync(0)
    expect(await first).toBe('PEER_UNREACHABLE')
    // a LOOKUP or a room record says the remote is reserved on R3, which we do not use
    hinted = [R3]
    const second = h.routes.connect(new AbortController().signal)
    await vi.advanceTimersByTimeAsync(ROUTE_STAGGER_MS)
    await second
    expect(h.link.relays()).toEqual([id(R3)])
    expect(new Set(h.net.relaysAskedFor)).toEqual(new Set([REMOTE.toString()]))
  })

  it('restores a lost route through a relay hinted for the remote', async () => {
    const h = harness('outbound', { relays: () => [R1, R3] })
    h.net.behaviour.set(id(R1), 'refuses')
    pathThrough(h, R3)
    h.routes.start()
    await vi.advanceTimersByTimeAsync(0)
    h.link.lose(h.link.connections()[0])
    await vi.advanceTimersByTimeAsync(ROUTE_BACKOFF_BASE_MS * 4)
    expect(h.link.relays()).toEqual([id(R3)])
  })
})

describe('route upkeep on the side that opened the link', () => {
  it('keeps a spare route through a second relay, and replaces it when it dies', async () => {
    const h = harness('outbound')
    const first = pathThrough(h, R1)
    h.routes.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(h.link.relays()).toEqual([id(R1), id(R2)])
    h.link.lose(h.link.connections().find(c => relayOf(c.remoteAddr) === id(R2)))
    await vi.advanceTimersByTimeAsync(0)
    expect(h.link.relays()).toHaveLength(1 + SPARE_ROUTES)
    expect(h.link.hasPathOn(first)).toBe(true)
  })

  it('backs off a relay whose routes fail, doubling, and tries the next relay meanwhile', async () => {
    const h = harness('outbound', { relays: [R1, R2] })
    h.net.behaviour.set(id(R2), 'refuses')
    pathThrough(h, R1)
    h.routes.start()
    await vi.advanceTimersByTimeAsync(8 * ROUTE_CHECK_INTERVAL_MS)
    expect(h.net.circuitDials().map(([, at]) => at)).toEqual([
      0,
      ROUTE_BACKOFF_BASE_MS,
      ROUTE_BACKOFF_BASE_MS + 2 * ROUTE_BACKOFF_BASE_MS,
      ROUTE_BACKOFF_BASE_MS + 2 * ROUTE_BACKOFF_BASE_MS + 4 * ROUTE_BACKOFF_BASE_MS
    ])
    expect(h.link.relays()).toEqual([id(R1)])
  })

  it('dials the link again through the relays when every path died', async () => {
    const h = harness('outbound', { relays: [R1, R2] })
    const a = pathThrough(h, R1)
    const b = pathThrough(h, R2)
    h.routes.start()
    h.link.lose(a)
    h.link.lose(b)
    expect(h.link.usable).toBe(false)
    await vi.advanceTimersByTimeAsync(0)
    expect(h.link.relays().sort()).toEqual([id(R1), id(R2)].sort())
  })

  it('upgrades to a direct path, and after it dies tries again once the retry delay passed', async () => {
    const h = harness('outbound', { direct: true, relays: [R1] })
    h.net.direct = 'opens'
    pathThrough(h, R1)
    h.routes.start()
    await vi.advanceTimersByTimeAsync(0)
    const direct = h.link.connections().find(c => c.direct)
    expect(direct).toBeDefined()
    h.link.lose(direct)
    await vi.advanceTimersByTimeAsync(DIRECT_RETRY_BASE_MS - 1)
    expect(h.net.dials.filter(d => d.to === 'webrtc')).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(ROUTE_CHECK_INTERVAL_MS)
    expect(h.net.dials.filter(d => d.to === 'webrtc')).toHaveLength(2)
    expect(h.link.connections().filter(c => c.direct)).toHaveLength(1)
  })

  it('attaches a direct connection libp2p opened by itself as soon as it opens', async () => {
    const h = harness('outbound', { relays: [R1] })
    pathThrough(h, R1)
    h.routes.start()
    const c = connection(multiaddr('/ip4/10.0.0.9/udp/1/webrtc-direct'), REMOTE, true)
    h.net.remoteConnections.push(c)
    h.net.events.safeDispatchEvent('connection:open', { detail: c })
    await vi.advanceTimersByTimeAsync(0)
    expect(h.link.hasPathOn(c)).toBe(true)
  })

  it('stops for good: no dials, no listeners, no timers', async () => {
    const h = harness('outbound', { relays: [R1, R2] })
    h.net.behaviour.set(id(R2), 'hangs')
    pathThrough(h, R1)
    h.routes.start()
    await vi.advanceTimersByTimeAsync(0)
    h.routes.stop()
    await vi.advanceTimersByTimeAsync(0)
    const dials = h.net.dials.length
    await vi.advanceTimersByTimeAsync(10 * ROUTE_CHECK_INTERVAL_MS)
    expect(h.net.dials).toHaveLength(dials)
    expect(h.link.pathEvents.listenerCount('path-lost')).toBe(0)
    expect(h.net.events.listenerCount('connection:open')).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('the side that accepted the link', () => {
  it('keeps no spares and dials no direct path while the link has a path', async () => {
    const h = harness('inbound', { direct: true })
    h.net.direct = 'opens'
    pathThrough(h, R1)
    h.routes.start()
    await vi.advanceTimersByTimeAsync(5 * ROUTE_CHECK_INTERVAL_MS)
    expect(h.net.dials).toEqual([])
  })

  it('restores an established link that lost its last path, through the next relay when one is down', async () => {
    const h = harness('inbound')
    h.net.behaviour.set(id(R1), 'down')
    const only = pathThrough(h, R1)
    h.routes.start()
    h.link.lose(only)
    await vi.advanceTimersByTimeAsync(0)
    expect(h.link.relays()).toEqual([id(R2)])
    // one route is enough on this side
    await vi.advanceTimersByTimeAsync(5 * ROUTE_CHECK_INTERVAL_MS)
    expect(h.link.relays()).toEqual([id(R2)])
  })

  it('keeps trying with backoff while the remote cannot be reached, and restores once it can', async () => {
    const h = harness('inbound', { relays: [R1] })
    const only = pathThrough(h, R1)
    h.routes.start()
    h.net.behaviour.set(id(R1), 'refuses')
    h.link.lose(only)
    await vi.advanceTimersByTimeAsync(3 * ROUTE_BACKOFF_BASE_MS)
    expect(h.net.circuitDials().map(([, at]) => at)).toEqual([0, ROUTE_BACKOFF_BASE_MS, 3 * ROUTE_BACKOFF_BASE_MS])
    h.net.behaviour.set(id(R1), 'carries')
    await vi.advanceTimersByTimeAsync(4 * ROUTE_BACKOFF_BASE_MS - 1)
    expect(h.link.usable).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(h.link.relays()).toEqual([id(R1)])
    expect(h.net.circuitDials().map(([, at]) => at).at(-1)).toBe(7 * ROUTE_BACKOFF_BASE_MS)
  })

  it('leaves a link that never completed its handshake to be discarded', async () => {
    const h = harness('inbound')
    const c = connection(multiaddr(`${R1.text}/p2p-circuit/p2p/${REMOTE.toString()}`), REMOTE)
    h.routes.start()
    // a path that never said HELLO: attached without establishing the link
    const attach = (): void => { h.link.attach(stream(), c); h.link.established = false }
    attach()
    h.link.lose(c)
    await vi.advanceTimersByTimeAsync(5 * ROUTE_CHECK_INTERVAL_MS)
    expect(h.net.dials).toEqual([])
  })

  it('drops its own restored route when the opener restored the link first', async () => {
    const h = harness('inbound', { relays: [R1] })
    h.net.delay.set(id(R1), 100)
    const only = pathThrough(h, R1)
    h.routes.start()
    h.link.lose(only)
    await vi.advanceTimersByTimeAsync(50)
    const opener = pathThrough(h, R1)
    await vi.advanceTimersByTimeAsync(100)
    expect(h.link.connections()).toEqual([opener])
  })

  it('tells the opener when a direct connection it dialled opens here', () => {
    const h = harness('inbound')
    pathThrough(h, R1)
    h.routes.start()
    const c = connection(multiaddr('/ip4/10.0.0.9/udp/1/webrtc-direct'), REMOTE, true)
    h.net.events.safeDispatchEvent('connection:open', { detail: c })
    // a connection to someone else is none of this link's business
    h.net.events.safeDispatchEvent('connection:open', { detail: connection(c.remoteAddr, R1.peerId, true) })
    expect(h.link.directUpReports).toBe(1)
    expect(h.link.hasPathOn(c)).toBe(false)
  })
})
