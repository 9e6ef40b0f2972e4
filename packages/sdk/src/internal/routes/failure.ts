/**
 * Why a route could not be dialled, decided by our own code from what it saw (see
 * relayed-dial.ts), never from the text of libp2p's messages; and the public error
 * `connect()` throws once every relay has failed.
 */
import { LifelineError } from '../../errors.js'
import { isTimeoutReason } from '../util/abort.js'
import { describeFailure } from '../util/failure.js'

/**
 * `relay-unreachable`: the relay could not be reached, or went away during the dial.
 * `peer-unreachable`: the relay was up and answered, but the remote was not reached
 * through it: a HOP CONNECT refused with a status (NO_RESERVATION, CONNECTION_FAILED,
 * PERMISSION_DENIED, RESOURCE_LIMIT_EXCEEDED...), a failed handshake over the
 * circuit, or a link stream the remote did not take.
 * `aborted` / `timeout`: the dial's signal fired, by a caller or by a deadline.
 */
export type RouteFailureKind = 'relay-unreachable' | 'peer-unreachable' | 'aborted' | 'timeout'

/** The step of a relayed dial that failed. */
export type RouteStep = 'relay' | 'circuit' | 'link-stream'

export interface RouteFailure {
  kind: RouteFailureKind
  /** The relay the route went through, as configured. */
  relay: string
  step: RouteStep
  /** What libp2p threw, for logs and the error's `cause`: never decided upon. */
  cause: unknown
}

/**
 * The failure of `step` through `relay`. A fired signal wins over anything else the
 * step saw: the dial was cut short, whatever the error says.
 */
export function routeFailure (signal: AbortSignal, kind: 'relay-unreachable' | 'peer-unreachable', relay: string, step: RouteStep, cause: unknown): RouteFailure {
  if (signal.aborted) {
    return { kind: isTimeoutReason(signal.reason) ? 'timeout' : 'aborted', relay, step, cause: signal.reason }
  }
  return { kind, relay, step, cause }
}

export function describeRouteFailure (failure: RouteFailure): string {
  return `${failure.relay}: ${failure.kind} at ${failure.step} (${describeFailure(failure.cause)})`
}

/**
 * The public error once every relay failed. One relay that answered is enough to
 * blame the remote (the relays are fine, the peer is unknown, offline or holds no
 * reservation); otherwise the relays are what could not be reached. Aborts and
 * deadlines count only when nothing else was learnt.
 */
export function connectError (remotePeerId: string, failures: readonly RouteFailure[]): LifelineError {
  const tried = failures.map(describeRouteFailure).join('; ')
  const cause = failures[0]?.cause
  if (failures.some(f => f.kind === 'peer-unreachable')) {
    return new LifelineError('PEER_UNREACHABLE', `Peer ${remotePeerId} is not reachable through any relay (unknown, offline, or holding no reservation). Tried: ${tried}`, { cause })
  }
  if (failures.length === 0 || failures.some(f => f.kind === 'relay-unreachable')) {
    return new LifelineError('RELAY_UNREACHABLE', `No relay carried a circuit to ${remotePeerId}: ${tried === '' ? 'no relay to try' : tried}`, { cause })
  }
  if (failures.some(f => f.kind === 'timeout')) {
    return new LifelineError('TIMEOUT', `No route to ${remotePeerId} finished in time: ${tried}`, { cause })
  }
  return new LifelineError('ABORTED', `Connecting to ${remotePeerId} was aborted`, { cause })
}
