/**
 * The token exchange over a stream pair, against a stand-in for the relay's
 * auth-server that speaks the same generated codec.
 */
import { readFileSync } from 'node:fs'
import type { Connection, Stream } from '@libp2p/interface'
import { pbStream, streamPair } from '@libp2p/utils'
import { describe, expect, it } from 'vitest'
import { MAX_RELAY_TOKEN_BYTES, RELAY_AUTH_PROTOCOL } from '../../constants.js'
import { authenticate, fetchToken, presentToken, RelayAuthError, type RelayAuthFailure } from './auth.js'
import { AuthRequest, AuthResponse } from './pb/auth.js'

const RELAY = { multiaddr: '/ip4/127.0.0.1/tcp/4001/ws/p2p/12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq', peerId: '12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq' }
const TOKEN = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIxMkQzS29vVyJ9.c2lnbmF0dXJl'

interface FakeRelay {
  connection: Connection
  /** Tokens the relay read, in order. */
  tokens: string[]
  /** Protocols streams were opened for. */
  protocols: string[]
}

/** A relay connection whose auth streams are answered by `answer`. */
function fakeRelay (answer: (token: string) => AuthResponse): FakeRelay {
  const tokens: string[] = []
  const protocols: string[] = []
  const connection = {
    newStream: async (protocol: string): Promise<Stream> => {
      protocols.push(protocol)
      const [client, relay] = await streamPair()
      void (async () => {
        const pb = pbStream(relay)
        const request = await pb.read(AuthRequest)
        tokens.push(request.token)
        await pb.write(answer(request.token), AuthResponse)
        await relay.close()
      })()
      return client
    }
  }
  // presentToken only opens streams on the connection
  return { connection: connection as unknown as Connection, tokens, protocols }
}

function unsupportedRelay (): Connection {
  const connection = {
    newStream: () => {
      const err = new Error('protocol selection failed')
      err.name = 'UnsupportedProtocolError'
      return Promise.reject(err)
    }
  }
  return connection as unknown as Connection
}

async function failureOf (promise: Promise<unknown>): Promise<RelayAuthFailure> {
  const err: unknown = await promise.then(() => undefined, (e: unknown) => e)
  if (!(err instanceof RelayAuthError)) {
    throw new Error(`expected a RelayAuthError, got ${String(err)}`)
  }
  return err.failure
}

describe('presentToken', () => {
  it('sends the token on /lifeline/auth/1.0.0 and returns the grant until its expiry', async () => {
    const relay = fakeRelay(() => ({ status: AuthResponse.Status.OK, reason: '', expires: 1_800_000_000n }))
    await expect(presentToken(relay.connection, TOKEN, {})).resolves.toEqual({ kind: 'granted', expiresAt: 1_800_000_000_000 })
    expect(relay.protocols).toEqual([RELAY_AUTH_PROTOCOL])
    expect(relay.tokens).toEqual([TOKEN])
  })

  it('throws the relay\'s reason when the token is refused, without the token in the message', async () => {
    const relay = fakeRelay(() => ({ status: AuthResponse.Status.REFUSED, reason: 'token-expired', expires: 0n }))
    const err: unknown = await presentToken(relay.connection, TOKEN, {}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RelayAuthError)
    expect((err as RelayAuthError).failure).toEqual({ kind: 'refused', reason: 'token-expired' })
    expect((err as Error).message).toBe('relay refused the token (token-expired)')
    expect((err as Error).message).not.toContain(TOKEN)
  })

  it('strips control characters from a refusal reason and shortens it', async () => {
    const relay = fakeRelay(() => ({ status: AuthResponse.Status.REFUSED, reason: `token-forged\n\u001b[31m${'x'.repeat(200)}`, expires: 0n }))
    const failure = await failureOf(presentToken(relay.connection, TOKEN, {}))
    expect(failure.kind).toBe('refused')
    expect(failure.kind === 'refused' && failure.reason.startsWith('token-forged[31m')).toBe(true)
    expect(failure.kind === 'refused' && failure.reason.length).toBe(64)
  })

  it('goes on without a token when the relay answers NOT_REQUIRED', async () => {
    const relay = fakeRelay(() => ({ status: AuthResponse.Status.NOT_REQUIRED, reason: '', expires: 0n }))
    await expect(presentToken(relay.connection, TOKEN, {})).resolves.toEqual({ kind: 'not-required' })
  })

  it('goes on without a token when the relay does not speak the protocol', async () => {
    await expect(presentToken(unsupportedRelay(), TOKEN, {})).resolves.toEqual({ kind: 'not-required' })
  })
})

describe('fetchToken', () => {
  it('passes the relay to the callback and returns its token', async () => {
    const asked: unknown[] = []
    await expect(fetchToken(relay => { asked.push(relay); return Promise.resolve(TOKEN) }, RELAY, {})).resolves.toBe(TOKEN)
    expect(asked).toEqual([RELAY])
  })

  it('reports a callback that rejects', async () => {
    const failure = await failureOf(fetchToken(() => Promise.reject(new Error('backend answered 503')), RELAY, {}))
    expect(failure).toEqual({ kind: 'source-failed', detail: 'backend answered 503' })
  })

  it('reports a callback that throws synchronously', async () => {
    const failure = await failureOf(fetchToken(() => { throw new Error('no session') }, RELAY, {}))
    expect(failure).toEqual({ kind: 'source-failed', detail: 'no session' })
  })

  it('refuses a token that is not a string, is empty or is too long for the relay', async () => {
    // a JavaScript caller's callback may resolve to anything
    const resolvesTo = (value: unknown) => () => Promise.resolve(value as string)
    expect(await failureOf(fetchToken(resolvesTo(undefined), RELAY, {}))).toEqual({ kind: 'source-invalid', detail: 'must resolve to a string (a JWT), got undefined' })
    expect(await failureOf(fetchToken(resolvesTo({ token: TOKEN }), RELAY, {}))).toEqual({ kind: 'source-invalid', detail: 'must resolve to a string (a JWT), got object' })
    expect((await failureOf(fetchToken(resolvesTo(''), RELAY, {}))).kind).toBe('source-invalid')
    const long = await failureOf(fetchToken(resolvesTo('x'.repeat(MAX_RELAY_TOKEN_BYTES + 1)), RELAY, {}))
    expect(long.kind === 'source-invalid' && long.detail).toContain('MAX_RELAY_TOKEN_BYTES')
  })

  it('stops waiting for the callback when the signal aborts', async () => {
    const abort = new AbortController()
    const fetching = fetchToken(() => new Promise<string>(() => {}), RELAY, { signal: abort.signal })
    abort.abort(new Error('pool stopped'))
    await expect(fetching).rejects.toThrow('pool stopped')
  })
})

describe('authenticate', () => {
  it('fetches a fresh token for every exchange', async () => {
    const relay = fakeRelay(() => ({ status: AuthResponse.Status.OK, reason: '', expires: 1_800_000_000n }))
    let issued = 0
    const source = (): Promise<string> => Promise.resolve(`${TOKEN}${++issued}`)
    await authenticate(relay.connection, RELAY, source, {})
    await authenticate(relay.connection, RELAY, source, {})
    expect(relay.tokens).toEqual([`${TOKEN}1`, `${TOKEN}2`])
  })
})

describe('the wire formats shared with the relay', () => {
  it('is the relay\'s generated code, compiled from the one protocols/auth.proto', () => {
    const sdk = readFileSync(new URL('pb/auth.ts', import.meta.url), 'utf8')
    const relay = readFileSync(new URL('../../../../relay/src/serve/pb/auth.ts', import.meta.url), 'utf8')
    expect(sdk).toBe(relay)
  })

  it('is, for rooms, the relay\'s generated code, compiled from the one protocols/rooms.proto', () => {
    const sdk = readFileSync(new URL('../rooms/pb/rooms.ts', import.meta.url), 'utf8')
    const relay = readFileSync(new URL('../../../../relay/src/rooms/pb/rooms.ts', import.meta.url), 'utf8')
    expect(sdk).toBe(relay)
  })
})
