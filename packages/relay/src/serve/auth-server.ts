/**
 * The relay's half of `/lifeline/auth/1.0.0` (protocols/auth.proto): a peer presents a
 * signed token on its connection; the relay checks it (guard/tokens.ts) against the
 * peer ID Noise proved for that connection and remembers the grant for the
 * connection, until the token's `exp`. The HOP server asks `isGranted` before it
 * reserves or relays; the rooms server also asks `coversRoom` before each JOIN. A
 * grant lives in a WeakMap keyed by the connection, so it goes with the connection
 * and nothing needs sweeping.
 */
import { pbStream } from '@libp2p/utils'
import { AuthRequest, AuthResponse } from './pb/auth.js'
import type { TokenGrant, TokenVerifier } from '../guard/tokens.js'
import type { Counters } from '../watch/counters.js'
import type { Connection, Logger, Stream } from '@libp2p/interface'

export { AUTH_PROTOCOL } from './protocols.js'

export interface AuthServerComponents {
  verifier: TokenVerifier
  counters: Counters
  log: Logger
  /** Milliseconds since the epoch; `Date.now` outside tests. */
  now?: () => number
}

export interface AuthServerInit {
  timeoutMs: number
  maxMessageBytes: number
}

export class AuthServer {
  private readonly components: AuthServerComponents
  private readonly init: AuthServerInit
  private readonly grants = new WeakMap<Connection, TokenGrant>()
  private readonly now: () => number

  constructor (components: AuthServerComponents, init: AuthServerInit) {
    this.components = components
    this.init = init
    this.now = components.now ?? Date.now
  }

  /** True while `connection` holds a grant that has not expired. */
  isGranted (connection: Connection): boolean {
    const grant = this.grants.get(connection)
    return grant !== undefined && grant.expiresAt > this.now()
  }

  /**
   * True when the latest token presented on `connection` covers room `topic`
   * (lowercase hex): it has no `rooms` claim, or lists the topic. Expiry is not
   * looked at: like a reservation, a membership begun under a grant outlives its
   * `exp`, while a later token with other rooms takes effect at the next JOIN.
   */
  coversRoom (connection: Connection, topic: string): boolean {
    const grant = this.grants.get(connection)
    return grant !== undefined && (grant.rooms === undefined || grant.rooms.has(topic))
  }

  /** The stream handler: one token, one answer. */
  async onAuth (stream: Stream, connection: Connection): Promise<void> {
    const signal = AbortSignal.timeout(this.init.timeoutMs)
    const pb = pbStream(stream, { maxDataLength: this.init.maxMessageBytes })
    const { counters } = this.components
    try {
      let request: AuthRequest
      try {
        request = await pb.read(AuthRequest, { signal })
      } catch {
        counters.increment('auth-refused-token-malformed')
        await pb.write({ status: AuthResponse.Status.REFUSED, reason: 'token-malformed', expires: 0n }, AuthResponse, { signal })
        await stream.close({ signal })
        return
      }
      const peer = connection.remotePeer.toString()
      const result = await this.components.verifier.verify(request.token, peer)
      if (typeof result === 'string') {
        counters.increment(`auth-refused-${result}`)
        // the token itself is never logged
        this.components.log('refused the token of %p: %s', connection.remotePeer, result)
        await pb.write({ status: AuthResponse.Status.REFUSED, reason: result, expires: 0n }, AuthResponse, { signal })
      } else {
        counters.increment('auth-granted')
        // a later token replaces the grant (and its rooms), so a peer renews before exp on the same connection
        this.grants.set(connection, result)
        await pb.write({ status: AuthResponse.Status.OK, reason: '', expires: BigInt(Math.floor(result.expiresAt / 1000)) }, AuthResponse, { signal })
      }
      await stream.close({ signal })
    } catch (err: unknown) {
      this.components.log.trace('token exchange with %p failed: %s', connection.remotePeer, err instanceof Error ? err.message : String(err))
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }
}
