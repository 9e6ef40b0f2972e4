/**
 * The client side of Lifeline relay tokens (`/lifeline/auth/1.0.0`, protocols/auth.proto).
 * A relay started with `--auth-public-key` answers RESERVE and CONNECT with
 * PERMISSION_DENIED until the connection holds a grant, and Circuit Relay v2's RESERVE
 * has no field for a credential: so before each RESERVE the pool asks the
 * application for a fresh token (PeerInit.relayToken) and presents it here, on the
 * same connection. A token is never logged nor put into an error message.
 */
import type { AbortOptions, Connection } from '@libp2p/interface'
import { pbStream } from '@libp2p/utils'
import {
  MAX_RELAY_AUTH_REASON_CHARS,
  MAX_RELAY_AUTH_RESPONSE_BYTES,
  MAX_RELAY_TOKEN_BYTES,
  RELAY_AUTH_PROTOCOL,
  RELAY_AUTH_TIMEOUT_MS
} from '../../constants.js'
import type { RelayTokenSource } from '../../types.js'
import { AuthRequest, AuthResponse } from './pb/auth.js'
import { abortable } from '../util/abort.js'

/** Why presenting a token failed; the pool shows the message as the relay's lastError. */
export type RelayAuthFailure =
  /** The relay refused the token; `reason` is its refusal name (`token-expired`, ...). */
  | { kind: 'refused', reason: string }
  /** `relayToken()` threw or rejected. */
  | { kind: 'source-failed', detail: string }
  /** `relayToken()` resolved to something that cannot be a token. */
  | { kind: 'source-invalid', detail: string }

export class RelayAuthError extends Error {
  readonly failure: RelayAuthFailure

  constructor (failure: RelayAuthFailure, options?: ErrorOptions) {
    super(describe(failure), options)
    this.name = 'RelayAuthError'
    this.failure = failure
  }
}

function describe (failure: RelayAuthFailure): string {
  switch (failure.kind) {
    case 'refused': return `relay refused the token (${failure.reason})`
    case 'source-failed': return `relayToken() failed: ${failure.detail}`
    case 'source-invalid': return `relayToken() ${failure.detail}`
  }
}

/** What presenting a token came to, when the relay did not refuse it. */
export type RelayAuthOutcome =
  /** The relay granted the connection until `expiresAt` (ms since the epoch). */
  | { kind: 'granted', expiresAt: number }
  /** The relay does not ask for tokens (no `--auth-public-key`): reserve without one. */
  | { kind: 'not-required' }

/**
 * Fetch a fresh token for the relay on `connection` and present it, within
 * RELAY_AUTH_TIMEOUT_MS.
 *
 * @throws RelayAuthError when the token is refused or `source` fails; an Error naming
 * the timeout when the whole took too long
 */
export async function authenticate (connection: Connection, relay: { multiaddr: string, peerId: string }, source: RelayTokenSource, options: AbortOptions): Promise<RelayAuthOutcome> {
  const timeout = AbortSignal.timeout(RELAY_AUTH_TIMEOUT_MS)
  const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout])
  try {
    const token = await fetchToken(source, relay, { signal })
    return await presentToken(connection, token, { signal })
  } catch (err: unknown) {
    if (timeout.aborted && options.signal?.aborted !== true) {
      throw new Error(`relayToken() and the token exchange took longer than ${RELAY_AUTH_TIMEOUT_MS} ms (RELAY_AUTH_TIMEOUT_MS)`, { cause: err })
    }
    throw err
  }
}

/**
 * Ask `source` for a token for `relay` and check it can be sent.
 *
 * @throws RelayAuthError `source-failed` or `source-invalid`
 */
export async function fetchToken (source: RelayTokenSource, relay: { multiaddr: string, peerId: string }, options: AbortOptions): Promise<string> {
  let token: unknown
  try {
    // Promise.resolve: a JavaScript caller's callback may return a bare value
    token = await abortable(Promise.resolve(source({ multiaddr: relay.multiaddr, peerId: relay.peerId })), options.signal)
  } catch (err: unknown) {
    if (options.signal?.aborted === true) {
      throw err
    }
    throw new RelayAuthError({ kind: 'source-failed', detail: err instanceof Error ? err.message : String(err) }, { cause: err })
  }
  if (typeof token !== 'string') {
    throw new RelayAuthError({ kind: 'source-invalid', detail: `must resolve to a string (a JWT), got ${token === null ? 'null' : typeof token}` })
  }
  if (token.length === 0) {
    throw new RelayAuthError({ kind: 'source-invalid', detail: 'resolved to an empty string; it must resolve to a JWT' })
  }
  const bytes = new TextEncoder().encode(token).byteLength
  if (bytes > MAX_RELAY_TOKEN_BYTES) {
    throw new RelayAuthError({ kind: 'source-invalid', detail: `resolved to a token of ${bytes} bytes; the relay accepts at most ${MAX_RELAY_TOKEN_BYTES} (MAX_RELAY_TOKEN_BYTES)` })
  }
  return token
}

/**
 * Present `token` on `connection`: one AuthRequest, one AuthResponse.
 *
 * @throws RelayAuthError `refused` with the relay's reason; what the stream throws
 * (a timeout, a closed connection) otherwise
 */
export async function presentToken (connection: Connection, token: string, options: AbortOptions): Promise<RelayAuthOutcome> {
  let stream
  try {
    stream = await connection.newStream(RELAY_AUTH_PROTOCOL, options)
  } catch (err: unknown) {
    // a relay without --auth-public-key does not speak the protocol
    if (err instanceof Error && err.name === 'UnsupportedProtocolError') {
      return { kind: 'not-required' }
    }
    throw err
  }
  try {
    const pb = pbStream(stream, { maxDataLength: MAX_RELAY_AUTH_RESPONSE_BYTES })
    await pb.write({ token }, AuthRequest, options)
    const response = await pb.read(AuthResponse, options)
    await stream.close(options)
    switch (response.status) {
      case AuthResponse.Status.OK:
        return { kind: 'granted', expiresAt: Number(response.expires) * 1000 }
      case AuthResponse.Status.NOT_REQUIRED:
        return { kind: 'not-required' }
      default:
        throw new RelayAuthError({ kind: 'refused', reason: cleanReason(response.reason) })
    }
  } catch (err: unknown) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    throw err
  }
}

/** The relay's reason goes into status and error messages: printable and short. */
function cleanReason (reason: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what is removed
  const printable = reason.replace(/[\u0000-\u001f\u007f-\u009f]/g, '').slice(0, MAX_RELAY_AUTH_REASON_CHARS)
  return printable === '' ? 'no reason given' : printable
}
