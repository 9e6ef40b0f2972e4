import { describe, expect, it } from 'vitest'
import { defaultRelayConfig } from './config.js'
import { UNLIMITED_DATA_BYTES, UNLIMITED_DURATION_MS } from './constants.js'
import { circuitRelayServerInit } from './server-init.js'

describe('circuitRelayServerInit', () => {
  it('applies no circuit limits by default, since the relay carries data', () => {
    const init = circuitRelayServerInit(defaultRelayConfig())
    expect(init.reservations).toEqual({ maxReservations: 1024, reservationTtl: 7_200_000, applyDefaultLimit: false })
  })

  it('caps concurrent circuits per peer in both directions', () => {
    const init = circuitRelayServerInit({ ...defaultRelayConfig(), maxCircuitsPerPeer: 5 })
    expect(init).toMatchObject({ maxInboundHopStreams: 5, maxOutboundStopStreams: 5 })
  })

  it('applies a byte limit without the 2-minute default duration', () => {
    const init = circuitRelayServerInit({ ...defaultRelayConfig(), maxCircuitBytes: 1000n })
    expect(init.reservations).toMatchObject({ applyDefaultLimit: true, defaultDataLimit: 1000n, defaultDurationLimit: UNLIMITED_DURATION_MS })
  })

  it('applies a duration limit in milliseconds without the 128 KiB default', () => {
    const init = circuitRelayServerInit({ ...defaultRelayConfig(), maxCircuitSeconds: 30 })
    expect(init.reservations).toMatchObject({ applyDefaultLimit: true, defaultDataLimit: UNLIMITED_DATA_BYTES, defaultDurationLimit: 30_000 })
  })
})
