/**
 * Every error the SDK throws is a {@link LifelineError} with a `code` from
 * this union. Check codes with {@link isLifelineError}, not `instanceof`: an
 * application bundle may hold two copies of the SDK.
 */
export type LifelineErrorCode =
  /** A peer ID string could not be parsed. */
  | 'INVALID_PEER_ID'
  /** A multiaddr string could not be parsed, or is not usable for its job. */
  | 'INVALID_MULTIADDR'
  /** An option passed to `createPeer()` or a method is out of range. */
  | 'INVALID_CONFIG'
  /** No relay could be reached, or none granted a reservation. */
  | 'RELAY_UNREACHABLE'
  /** The remote peer is not reachable through any known relay (unknown, offline, or not reserved). */
  | 'PEER_UNREACHABLE'
  /** The operation did not finish before its deadline. */
  | 'TIMEOUT'
  /** The caller's `AbortSignal` fired. */
  | 'ABORTED'
  /** The peer is not started (or was stopped). */
  | 'NOT_STARTED'
  /** The link was closed, locally or by the remote peer. */
  | 'LINK_CLOSED'
  /** A message is larger than `maxMessageBytes`. */
  | 'MESSAGE_TOO_LARGE'
  /** The remote peer sent something that breaks the link protocol. */
  | 'PROTOCOL_ERROR'
  /** The remote peer does not support the requested protocol. */
  | 'UNSUPPORTED_PROTOCOL'
  /**
   * A relay refused to let this peer join a room (its code and message are in the
   * error's message: `LIMIT`, `NOT_AUTHORIZED` when the relay wants a relay token or
   * ours does not cover the room, `BAD_REQUEST`), or the room was left.
   */
  | 'ROOM_REFUSED'
  /**
   * A relay's shared directory (a fleet's Redis) is unreachable, so it could not say
   * where a peer is reserved.
   */
  | 'DIRECTORY_UNAVAILABLE'

const LIFELINE_ERROR = 'LifelineError'

export class LifelineError extends Error {
  readonly code: LifelineErrorCode
  /** Marks instances from any copy of the SDK, for {@link isLifelineError}. */
  readonly isLifelineError = true

  constructor (code: LifelineErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = LIFELINE_ERROR
    this.code = code
  }
}

/**
 * True when `err` is a Lifeline error, and, given `code`, one with that code.
 */
export function isLifelineError (err: unknown, code?: LifelineErrorCode): err is LifelineError {
  if (typeof err !== 'object' || err === null) {
    return false
  }
  const candidate = err as { isLifelineError?: unknown, code?: unknown }
  if (candidate.isLifelineError !== true || typeof candidate.code !== 'string') {
    return false
  }
  return code === undefined || candidate.code === code
}
