/**
 * Translates a `RelayConfig` into the options of libp2p's circuit relay server.
 * Pure, so the limit rules below are unit tested.
 */
import { UNLIMITED_DATA_BYTES, UNLIMITED_DURATION_MS } from './constants.js'
import type { RelayConfig } from './config.js'
import type { CircuitRelayServerInit, ServerReservationStoreInit } from '@libp2p/circuit-relay-v2'

export function circuitRelayServerInit (config: RelayConfig): CircuitRelayServerInit {
  return {
    reservations: reservationInit(config),
    // Both limits are per connection, that is per peer. A HOP stream stays open for
    // the life of each circuit the peer opened, a STOP stream for each circuit
    // opened to it, so these cap concurrent circuits in each direction.
    maxInboundHopStreams: config.maxCircuitsPerPeer,
    maxOutboundStopStreams: config.maxCircuitsPerPeer
  }
}

/**
 * Lifeline relays are the data fallback, not just a rendezvous for hole punching:
 * libp2p's default caps (128 KiB and 2 minutes per circuit) would cut every
 * relayed link, so they apply only when the operator sets a limit. libp2p applies
 * both limits or neither, so an unset one becomes a practically unlimited value.
 */
function reservationInit (config: RelayConfig): ServerReservationStoreInit {
  const init: ServerReservationStoreInit = {
    maxReservations: config.maxReservations,
    reservationTtl: config.reservationTtlSeconds * 1000
  }
  if (config.maxCircuitBytes === undefined && config.maxCircuitSeconds === undefined) {
    return { ...init, applyDefaultLimit: false }
  }
  return {
    ...init,
    applyDefaultLimit: true,
    defaultDataLimit: config.maxCircuitBytes ?? UNLIMITED_DATA_BYTES,
    defaultDurationLimit: config.maxCircuitSeconds === undefined ? UNLIMITED_DURATION_MS : config.maxCircuitSeconds * 1000
  }
}
