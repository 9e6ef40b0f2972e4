/**
 * The Circuit Relay v2 protocol IDs
 * (https://github.com/libp2p/specs/blob/master/relay/circuit-v2.md). Kept apart from
 * hop-server.ts, which re-exports them, so that code which only names the protocols
 * (the bench's clients) need not load libp2p.
 */
export const HOP_PROTOCOL = '/libp2p/circuit/relay/0.2.0/hop'
export const STOP_PROTOCOL = '/libp2p/circuit/relay/0.2.0/stop'

/** Lifeline relay tokens (see protocols/auth.proto at the repository root): presented before RESERVE or CONNECT. */
export const AUTH_PROTOCOL = '/lifeline/auth/1.0.0'
