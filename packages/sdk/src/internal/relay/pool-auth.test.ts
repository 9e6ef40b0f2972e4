/**
 * The relay pool with relay tokens: a token before every RESERVE, failures of the
 * token step shown in the relay's status, and a relay that wants a token it was not
 * given named as such.
 */
import type { Connection } from '@libp2p/interface'
import { afterEach, assert, describe, expect, it } from 'vitest'
import { parseRelayAddress } from '../util/parse.js'
import { RelayAuthError, type RelayAuthOutcome } from './auth.js'
import { ReservationRefusedError, STATUS_PERMISSION_DENIED } from './hop.js'
import { RelayPool, type RelayPoolComponents } from './pool.js'

const RELAY = '/ip4/127.0.0.1/tcp/4001/ws/p2p/12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq'

function silentLog (): RelayPoolComponents['log'] {
  const log = Object.assign(() => {}, { enabled: false, trace: () => {}, error: () => {} })
  // the pool only calls the logger and its trace and error levels
  return log as unknown as RelayPoolComponents['log']
}

const pools: RelayPool[] = []
afterEach(() => { pools.splice(0).forEach(p => { p.stop() }) })

function pool (overrides: Partial<RelayPoolComponents>, steps: string[]): RelayPool {
  const components: RelayPoolComponents = {
    // the pool only listens for 'close' on a connection
    connect: async relay => Promise.resolve({ connection: new EventTarget() as unknown as Connection, address: relay.addresses[0] ?? assert.fail('no address') }),
    reserve: () => {
      steps.push('reserve')
      // a short reservation, so the pool refreshes it after its 1 s floor
      return Promise.resolve({ expiresAt: Date.now() + 2_000 })
    },
    ping: () => Promise.resolve(1),
    abort: () => {},
    now: () => Date.now(),
    random: () => 0.5,
    log: silentLog(),
    ...overrides
  }
  const p = new RelayPool([parseRelayAddress(RELAY)], 1, components, () => {})
  pools.push(p)
  return p
}

describe('RelayPool with relay tokens', () => {
  it('presents a token before the first RESERVE and before every refresh', async () => {
    const steps: string[] = []
    const p = pool({
      authenticate: (_connection, relay) => {
        steps.push(`token for ${relay.multiaddr}`)
        return Promise.resolve<RelayAuthOutcome>({ kind: 'granted', expiresAt: Date.now() + 60_000 })
      }
    }, steps)
    p.start()
    await expect.poll(() => steps.length, { timeout: 5_000 }).toBeGreaterThanOrEqual(4)
    expect(steps.slice(0, 4)).toEqual([`token for ${RELAY}`, 'reserve', `token for ${RELAY}`, 'reserve'])
    expect(p.status()[0]?.state).toBe('reserved')
  })

  it('shows a refused token as lastError, does not reserve, and backs off', async () => {
    const steps: string[] = []
    const p = pool({
      authenticate: () => Promise.reject(new RelayAuthError({ kind: 'refused', reason: 'token-expired' }))
    }, steps)
    p.start()
    await expect.poll(() => p.status()[0]?.state).toBe('down')
    expect(p.status()[0]).toMatchObject({ lastError: 'relay refused the token (token-expired)', failures: 1 })
    expect(p.status()[0]?.retryAt).toBeGreaterThan(Date.now())
    expect(steps).toEqual([])
  })

  it('says a relay wants a token when it denies RESERVE and no relayToken is set', async () => {
    const p = pool({ reserve: () => Promise.reject(new ReservationRefusedError(STATUS_PERMISSION_DENIED)) }, [])
    p.start()
    await expect.poll(() => p.status()[0]?.state).toBe('down')
    expect(p.status()[0]?.lastError).toBe('reservation refused (PERMISSION_DENIED): the relay requires a relay token and PeerInit.relayToken is not set')
  })
})
