import { describe, expect, it } from 'vitest'
import { Counters } from './counters.js'
import { COUNTER_SERIES, RelayMetrics, counterSeries } from './metrics.js'

function relayMetrics (counters = new Counters(), ready = true): RelayMetrics {
  return new RelayMetrics({
    counters,
    ready: () => ready,
    holdings: () => ({ reservations: 3, circuits: 2, pending: 1, sources: 4, connectionsByTransport: { ws: 5 } })
  })
}

/** The value of one series in Prometheus text, e.g. `name{label="x"}`. */
function valueOf (text: string, series: string): number | undefined {
  const line = text.split('\n').find(l => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe('relay metrics', () => {
  it('counts a renewal as renewed, not opened, and both as ok answers', () => {
    const counters = new Counters()
    counters.increment('reservations-granted', 5)
    counters.increment('reservations-renewed', 2)
    const series = counterSeries(name => counters.get(name))
    const reservations = series.get('libp2p_relaysvc_reservations_total')
    expect(reservations?.get(JSON.stringify({ type: 'opened' }))?.value).toBe(3)
    expect(reservations?.get(JSON.stringify({ type: 'renewed' }))?.value).toBe(2)
    expect(series.get('libp2p_relaysvc_reservation_request_response_status_total')?.get(JSON.stringify({ status: 'ok' }))?.value).toBe(5)
  })

  it('labels accepted connections by transport: ws, wss and webrtc-direct', () => {
    const counters = new Counters()
    // every accepted connection counts once in connections-accepted, and in its transport's subset
    counters.increment('connections-accepted', 6)
    counters.increment('connections-accepted-wss', 2)
    counters.increment('connections-accepted-webrtc-direct', 3)
    const accepted = counterSeries(name => counters.get(name)).get('lifeline_relay_connections_accepted_total')
    expect(accepted?.get(JSON.stringify({ transport: 'ws' }))?.value).toBe(1)
    expect(accepted?.get(JSON.stringify({ transport: 'wss' }))?.value).toBe(2)
    expect(accepted?.get(JSON.stringify({ transport: 'webrtc-direct' }))?.value).toBe(3)
  })

  it('exports every counter of stats() in some series', () => {
    for (const [name, contributions] of Object.entries(COUNTER_SERIES)) {
      expect(contributions.some(([, , sign]) => sign === undefined), name).toBe(true)
    }
  })

  it('renders counters, holdings and status in Prometheus text, with zeros for what never happened', async () => {
    const counters = new Counters()
    counters.increment('reservation-refused-reservations-per-source')
    counters.increment('circuit-refused-no-reservation', 2)
    counters.increment('circuit-refused-connection-failed')
    counters.increment('circuit-bytes', 1234)
    counters.increment('idle-timeout')
    counters.increment('refused-rate-per-source', 7)
    const metrics = relayMetrics(counters)
    metrics.circuitDurations.observe(42)
    const text = await metrics.render()

    expect(valueOf(text, 'libp2p_relaysvc_status')).toBe(1)
    expect(valueOf(text, 'libp2p_relaysvc_reservation_rejections_total{reason="reservations-per-source"}')).toBe(1)
    expect(valueOf(text, 'libp2p_relaysvc_reservation_rejections_total{reason="reservations-total"}')).toBe(0)
    expect(valueOf(text, 'libp2p_relaysvc_reservation_request_response_status_total{status="rejected"}')).toBe(1)
    expect(valueOf(text, 'libp2p_relaysvc_connection_rejections_total{reason="no-reservation"}')).toBe(2)
    expect(valueOf(text, 'libp2p_relaysvc_connection_request_response_status_total{status="rejected"}')).toBe(2)
    expect(valueOf(text, 'libp2p_relaysvc_connection_request_response_status_total{status="error"}')).toBe(1)
    expect(valueOf(text, 'libp2p_relaysvc_data_transferred_bytes_total')).toBe(1234)
    expect(valueOf(text, 'lifeline_relay_connections_closed_total{reason="idle-timeout"}')).toBe(1)
    expect(valueOf(text, 'lifeline_relay_connections_refused_total{reason="rate-per-source"}')).toBe(7)
    expect(valueOf(text, 'lifeline_relay_reservations')).toBe(3)
    expect(valueOf(text, 'lifeline_relay_circuits')).toBe(2)
    expect(valueOf(text, 'lifeline_relay_connections{transport="ws"}')).toBe(5)
    expect(valueOf(text, 'libp2p_relaysvc_connection_duration_seconds_bucket{le="60"}')).toBe(1)
    expect(valueOf(text, 'libp2p_relaysvc_connection_duration_seconds_bucket{le="15"}')).toBe(0)
    expect(text).toContain('# TYPE libp2p_relaysvc_reservations_total counter')
    // prom-client's default process metrics
    expect(text).toContain('process_cpu_user_seconds_total')
    expect(text).toContain('nodejs_eventloop_lag_seconds')
  })

  it('reports status 0 while the relay is not ready', async () => {
    expect(valueOf(await relayMetrics(new Counters(), false).render(), 'libp2p_relaysvc_status')).toBe(0)
  })

  it('keeps two relays in one process apart', async () => {
    const a = new Counters()
    a.increment('circuit-bytes', 10)
    const b = new Counters()
    b.increment('circuit-bytes', 20)
    expect(valueOf(await relayMetrics(a).render(), 'libp2p_relaysvc_data_transferred_bytes_total')).toBe(10)
    expect(valueOf(await relayMetrics(b).render(), 'libp2p_relaysvc_data_transferred_bytes_total')).toBe(20)
  })
})
