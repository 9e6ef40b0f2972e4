/**
 * RelayConnector: a relay's addresses raced Happy Eyeballs style, on a fake clock and
 * fake transports that answer, fail or hang as each test says.
 */
import type { AbortOptions, Connection } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { RELAY_TRANSPORT_PREFERENCE } from '../../constants.js'
import { parseRelays, type RelayAddress } from '../util/parse.js'
import { RelayConnector } from './connect.js'

const RELAY_ID = '12D3KooWHFrmLWTTDD4NodngtRMEVYtDGW3mcpGXNzJZeRTMM4Aw'
const CERTHASH = 'uEiDDq4_xNyDorZBH3TlGazyJdOWSwvo4PUo5YHFMrvDE8g'
const WSS = `/dns4/relay.example.com/tcp/443/tls/ws/p2p/${RELAY_ID}`
const DIRECT = `/ip4/203.0.113.7/udp/443/webrtc-direct/certhash/${CERTHASH}/p2p/${RELAY_ID}`
const DELAY_MS = 250

/** `stubborn`: hangs and ignores its abort signal, like a transport that finishes its handshake anyway. */
type Behaviour = 'answers' | 'fails' | 'hangs' | 'stubborn'

interface FakeConnection { remoteAddr: Multiaddr, status: 'open' | 'closed', close(): Promise<void>, abort(): void }

class FakeTransports {
  readonly behaviour = new Map<string, Behaviour>()
  readonly dials: Array<{ transport: string, signal: AbortSignal | undefined, finish?: () => void }> = []
  readonly open: FakeConnection[] = []

  dialAddress = async (ma: Multiaddr, options: AbortOptions): Promise<Connection> => {
    const transport = ma.toString().includes('webrtc-direct') ? 'webrtc-direct' : 'wss'
    const dial: { transport: string, signal: AbortSignal | undefined, finish?: () => void } = { transport, signal: options.signal }
    this.dials.push(dial)
    const behaviour = this.behaviour.get(transport) ?? 'answers'
    if (behaviour === 'fails') {
      throw new Error(`${transport} refused`)
    }
    const connect = (): Connection => {
      const connection: FakeConnection = {
        remoteAddr: ma,
        status: 'open',
        close: async () => { connection.status = 'closed'; await Promise.resolve() },
        abort: () => { connection.status = 'closed' }
      }
      this.open.push(connection)
      return connection as unknown as Connection
    }
    if (behaviour === 'answers') {
      return connect()
    }
    // until finished by the test, or aborted unless stubborn
    return new Promise((resolve, reject) => {
      dial.finish = () => { resolve(connect()) }
      if (behaviour === 'hangs') {
        options.signal?.addEventListener('abort', () => { reject(new Error('aborted')) }, { once: true })
      }
    })
  }

  connector (): RelayConnector {
    return new RelayConnector({
      dialAddress: this.dialAddress,
      getConnections: () => this.open.filter(c => c.status === 'open') as unknown as Connection[],
      log: () => {}
    }, DELAY_MS)
  }
}

function relay (...addresses: string[]): RelayAddress {
  const [parsed] = parseRelays(addresses, RELAY_TRANSPORT_PREFERENCE)
  if (parsed === undefined) {
    throw new Error('no relay')
  }
  return parsed
}

let net: FakeTransports
beforeEach(() => {
  vi.useFakeTimers()
  net = new FakeTransports()
})
afterEach(() => { vi.useRealTimers() })

describe('RelayConnector', () => {
  it('uses the preferred transport alone when it answers before the attempt delay', async () => {
    const held = await net.connector().connect(relay(DIRECT, WSS))
    await vi.advanceTimersByTimeAsync(DELAY_MS * 4)
    expect(held.address.transport).toBe('wss')
    expect(net.dials.map(d => d.transport)).toEqual(['wss'])
  })

  it('starts the next transport after the attempt delay and aborts the slower one when it wins', async () => {
    net.behaviour.set('wss', 'hangs')
    const connecting = net.connector().connect(relay(WSS, DIRECT))
    await vi.advanceTimersByTimeAsync(DELAY_MS - 1)
    expect(net.dials.map(d => d.transport)).toEqual(['wss'])
    await vi.advanceTimersByTimeAsync(1)
    const held = await connecting
    expect(held.address.transport).toBe('webrtc-direct')
    expect(net.dials[0]?.signal?.aborted).toBe(true)
  })

  it('starts the next transport at once when the one before fails', async () => {
    net.behaviour.set('wss', 'fails')
    const held = await net.connector().connect(relay(WSS, DIRECT))
    expect(held.address.transport).toBe('webrtc-direct')
    expect(net.dials.map(d => d.transport)).toEqual(['wss', 'webrtc-direct'])
  })

  it('closes a losing connection that completes after the winner', async () => {
    net.behaviour.set('wss', 'stubborn')
    const connecting = net.connector().connect(relay(WSS, DIRECT))
    await vi.advanceTimersByTimeAsync(DELAY_MS)
    await connecting
    net.dials[0]?.finish?.()
    await vi.advanceTimersByTimeAsync(0)
    expect(net.open.map(c => c.status)).toEqual(['open', 'closed'])
  })

  it('names every transport and its error when all of them fail', async () => {
    net.behaviour.set('wss', 'fails')
    net.behaviour.set('webrtc-direct', 'fails')
    await expect(net.connector().connect(relay(WSS, DIRECT))).rejects.toThrow(/every address of the relay failed: wss .*wss refused; webrtc-direct .*webrtc-direct refused/)
  })

  it('shares one connect among callers and reuses an open connection', async () => {
    net.behaviour.set('wss', 'hangs')
    const connector = net.connector()
    const target = relay(WSS)
    const first = connector.connect(target)
    const second = connector.connect(target)
    net.dials[0]?.finish?.()
    const [a, b] = await Promise.all([first, second])
    expect(a.connection).toBe(b.connection)
    const third = await connector.connect(target)
    expect(third.connection).toBe(a.connection)
    expect(third.address.transport).toBe('wss')
    expect(net.dials).toHaveLength(1)
  })

  it('ends only the waiting of a caller whose signal fires; the connect goes on for the others', async () => {
    net.behaviour.set('wss', 'hangs')
    const connector = net.connector()
    const target = relay(WSS)
    const controller = new AbortController()
    const impatient = connector.connect(target, { signal: controller.signal })
    const patient = connector.connect(target)
    controller.abort(new Error('caller gave up'))
    await expect(impatient).rejects.toThrow('caller gave up')
    net.dials[0]?.finish?.()
    await expect(patient).resolves.toMatchObject({ address: { transport: 'wss' } })
  })

  it('aborts every attempt when stopped', async () => {
    net.behaviour.set('wss', 'hangs')
    net.behaviour.set('webrtc-direct', 'hangs')
    const connector = net.connector()
    const connecting = connector.connect(relay(WSS, DIRECT))
    await vi.advanceTimersByTimeAsync(DELAY_MS)
    connector.stop()
    await expect(connecting).rejects.toThrow('the peer stopped')
    expect(net.dials.map(d => d.signal?.aborted)).toEqual([true, true])
  })
})
