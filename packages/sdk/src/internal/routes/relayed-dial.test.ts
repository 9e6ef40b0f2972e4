/**
 * Why a relayed dial failed, decided from what our own code saw: the relay
 * connection failing, or a circuit failing while that connection stays open (the
 * relay answered; the remote is what it could not reach), or going down with it.
 */
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { LifelineError } from '../../errors.js'
import { parseRelayAddress, relayOf } from '../util/parse.js'
import { circuitAddress, dialRelayed, type RelayedDialComponents } from './relayed-dial.js'

const RELAY = parseRelayAddress('/ip4/10.0.0.1/tcp/4001/ws/p2p/12D3KooWHFrmLWTTDD4NodngtRMEVYtDGW3mcpGXNzJZeRTMM4Aw')
const REMOTE = peerIdFromString('12D3KooWRvKxy16gGU3gmxRSXoaY8xqWEGEvASgS43gR1BSxs4dk')

interface FakeConnection {
  id: string
  status: 'open' | 'closed'
  direct: boolean
  remoteAddr: Multiaddr
  remotePeer: PeerId
  closed: boolean
  close(): Promise<void>
}

function fakeConnection (id: string, remoteAddr: Multiaddr, remotePeer: PeerId): FakeConnection {
  const connection: FakeConnection = {
    id,
    status: 'open',
    direct: false,
    remoteAddr,
    remotePeer,
    closed: false,
    close: async () => {
      connection.status = 'closed'
      connection.closed = true
      await Promise.resolve()
    }
  }
  return connection
}

/** The relay's answer to HOP CONNECT, and what happens to the relay connection meanwhile. */
type Circuit = 'ok' | 'refused' | 'relay-dies' | 'hangs'

interface Fake {
  components: RelayedDialComponents
  dials: Array<{ ma: string, force: boolean }>
  relayConnections: FakeConnection[]
  circuits: FakeConnection[]
}

function fake (options: { relay?: 'up' | 'down', circuit?: Circuit, linkStream?: 'ok' | 'fails', relayConnected?: boolean } = {}): Fake {
  const f: Fake = { components: undefined as unknown as RelayedDialComponents, dials: [], relayConnections: [], circuits: [] }
  if (options.relayConnected === true) {
    f.relayConnections.push(fakeConnection('relay-0', RELAY.multiaddr, RELAY.peerId))
  }
  f.components = {
    connectRelay: async (relay, { signal }) => f.components.dial(relay.multiaddr, { signal }),
    dial: async (ma, { signal, force }) => {
      f.dials.push({ ma: ma.toString(), force: force === true })
      const isCircuit = ma.getComponents().some(c => c.name === 'p2p-circuit')
      if (!isCircuit) {
        if (options.relay === 'down') {
          throw new Error('ECONNREFUSED')
        }
        const connection = fakeConnection(`relay-${f.relayConnections.length}`, ma, RELAY.peerId)
        f.relayConnections.push(connection)
        return connection as unknown as Connection
      }
      switch (options.circuit ?? 'ok') {
        case 'refused':
          // what circuit-relay-v2 throws; the text is never looked at
          throw Object.assign(new Error('failed to connect via relay with status NO_RESERVATION'), { name: 'InvalidMessageError' })
        case 'relay-dies':
          for (const c of f.relayConnections) {
            await c.close()
          }
          throw new Error('stream reset')
        case 'hangs':
          return new Promise((_resolve, reject) => {
            const fail = (): void => { reject(new Error('The operation was aborted')) }
            if (signal.aborted) {
              fail()
            }
            signal.addEventListener('abort', fail, { once: true })
          })
        default: {
          const circuit = fakeConnection(`circuit-${f.circuits.length}`, ma, REMOTE)
          f.circuits.push(circuit)
          return circuit as unknown as Connection
        }
      }
    },
    getConnections: peer => (peer.equals(RELAY.peerId) ? f.relayConnections : f.circuits) as unknown as Connection[],
    newStream: async () => {
      if (options.linkStream === 'fails') {
        throw Object.assign(new Error('protocol selection failed'), { name: 'UnsupportedProtocolError' })
      }
      return await Promise.resolve({ id: 'stream' } as unknown as Stream)
    }
  }
  return f
}

const live = (): AbortSignal => new AbortController().signal

describe('dialRelayed', () => {
  it('opens the relay connection, then forces a circuit through it, then a link stream', async () => {
    const f = fake()
    const outcome = await dialRelayed(f.components, RELAY, REMOTE, live())
    expect(outcome.ok).toBe(true)
    expect(f.dials).toEqual([
      { ma: RELAY.text, force: false },
      { ma: circuitAddress(RELAY, REMOTE).toString(), force: true }
    ])
    if (outcome.ok) {
      expect(relayOf(outcome.route.connection.remoteAddr)).toBe(RELAY.peerId.toString())
    }
  })

  it('reuses an open relay connection and an open circuit through the same relay', async () => {
    const f = fake({ relayConnected: true })
    f.circuits.push(fakeConnection('existing', circuitAddress(RELAY, REMOTE), REMOTE))
    const outcome = await dialRelayed(f.components, RELAY, REMOTE, live())
    expect(f.dials).toEqual([])
    expect(outcome.ok && outcome.route.connection.id).toBe('existing')
  })

  it('blames the relay when the relay connection cannot be opened', async () => {
    const outcome = await dialRelayed(fake({ relay: 'down' }).components, RELAY, REMOTE, live())
    expect(outcome).toMatchObject({ ok: false, failure: { kind: 'relay-unreachable', step: 'relay', relay: RELAY.text } })
  })

  it('blames the remote when the relay refuses the circuit and stays connected', async () => {
    const outcome = await dialRelayed(fake({ circuit: 'refused' }).components, RELAY, REMOTE, live())
    expect(outcome).toMatchObject({ ok: false, failure: { kind: 'peer-unreachable', step: 'circuit' } })
  })

  it('blames the relay when it goes down while the circuit is dialled', async () => {
    const outcome = await dialRelayed(fake({ circuit: 'relay-dies' }).components, RELAY, REMOTE, live())
    expect(outcome).toMatchObject({ ok: false, failure: { kind: 'relay-unreachable', step: 'circuit' } })
  })

  it('blames the remote and closes the circuit when the remote does not take the link stream', async () => {
    const f = fake({ linkStream: 'fails' })
    const outcome = await dialRelayed(f.components, RELAY, REMOTE, live())
    expect(outcome).toMatchObject({ ok: false, failure: { kind: 'peer-unreachable', step: 'link-stream' } })
    expect(f.circuits[0]?.closed).toBe(true)
  })

  it('reports a dial cut short by its caller as aborted, whatever the error says', async () => {
    const controller = new AbortController()
    const dialing = dialRelayed(fake({ circuit: 'hangs' }).components, RELAY, REMOTE, controller.signal)
    controller.abort()
    expect(await dialing).toMatchObject({ ok: false, failure: { kind: 'aborted', step: 'circuit' } })
  })

  it('reports a dial cut short by a deadline as timeout', async () => {
    const controller = new AbortController()
    const dialing = dialRelayed(fake({ circuit: 'hangs' }).components, RELAY, REMOTE, controller.signal)
    controller.abort(new LifelineError('TIMEOUT', 'route deadline'))
    expect(await dialing).toMatchObject({ ok: false, failure: { kind: 'timeout', step: 'circuit' } })
  })
})
