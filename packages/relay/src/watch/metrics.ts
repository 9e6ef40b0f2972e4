/**
 * The relay's Prometheus metrics. Counts come from `Counters` (the same numbers as
 * `relay.stats()`), read at scrape time: nothing is counted twice, and a relay
 * without `--metrics` pays nothing but the counters it always keeps.
 *
 * Names follow go-libp2p's relay service (`p2p/protocol/circuitv2/relay/metrics.go`,
 * namespace `libp2p_relaysvc`) wherever they mean the same thing, so dashboards
 * written for a go-libp2p relay work here; what go-libp2p has no name for is under
 * `lifeline_relay_`. Reasons are the relay's own refusal names (label values such
 * as `reservations-per-source`), finer than go-libp2p's.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { CIRCUIT_DURATION_BUCKETS_SECONDS } from '../constants.js'
import type { CounterName, Counters } from './counters.js'
import type { RoomHoldings } from '../rooms/hub.js'

/** What the relay holds at the moment of a scrape. */
export interface Holdings {
  reservations: number
  circuits: number
  /** Connections still in their handshake. */
  pending: number
  sources: number
  /** Established connections by transport (`ws`, `wss`, `webrtc-direct`). */
  connectionsByTransport: Readonly<Record<string, number>>
}

export interface RelayMetricsComponents {
  counters: Counters
  holdings(): Holdings
  /** True while the relay is listening and serving (`libp2p_relaysvc_status`). */
  ready(): boolean
  /** What the rooms hold now; undefined until the relay serves rooms. */
  rooms?: () => RoomHoldings | undefined
}

type Labels = Readonly<Record<string, string>>

/** A counter metric and the counters that add up to each of its series. */
interface CounterMetric {
  help: string
  labelNames: readonly string[]
}

const COUNTER_METRICS = {
  libp2p_relaysvc_reservations_total: {
    help: 'Reservations by type: opened (new), renewed (a holder asked again), closed (dropped on disconnect or expired)',
    labelNames: ['type']
  },
  libp2p_relaysvc_reservation_request_response_status_total: {
    help: 'Answers to RESERVE requests: ok or rejected',
    labelNames: ['status']
  },
  libp2p_relaysvc_reservation_rejections_total: {
    help: 'Refused reservations by reason',
    labelNames: ['reason']
  },
  libp2p_relaysvc_connections_total: {
    help: 'Circuits opened and closed',
    labelNames: ['type']
  },
  libp2p_relaysvc_connection_request_response_status_total: {
    help: 'Answers to CONNECT requests: ok, rejected (refused by the relay) or error (the destination could not be reached)',
    labelNames: ['status']
  },
  libp2p_relaysvc_connection_rejections_total: {
    help: 'Refused circuits by reason',
    labelNames: ['reason']
  },
  libp2p_relaysvc_data_transferred_bytes_total: {
    help: 'Bytes carried by circuits, both directions',
    labelNames: []
  },
  lifeline_relay_reservations_closed_total: {
    help: 'Reservations that ended, by reason: disconnect (the holder\'s last connection closed) or expired',
    labelNames: ['reason']
  },
  lifeline_relay_connections_accepted_total: {
    help: 'Connections that completed their handshake, by transport',
    labelNames: ['transport']
  },
  lifeline_relay_connections_refused_total: {
    help: 'Sockets refused at accept by the admission limits, by reason',
    labelNames: ['reason']
  },
  lifeline_relay_sockets_closed_total: {
    help: 'Sockets closed before they became a libp2p connection, by reason (deadlines, protocol errors, plain HTTP)',
    labelNames: ['reason']
  },
  lifeline_relay_connections_closed_total: {
    help: 'Established connections the relay closed, by reason',
    labelNames: ['reason']
  },
  lifeline_relay_tokens_total: {
    help: 'Relay tokens presented, by result: granted, or the reason for refusing it',
    labelNames: ['result']
  },
  lifeline_relay_hop_malformed_total: {
    help: 'HOP requests that could not be read or had no known type',
    labelNames: []
  },
  // rooms (/lifeline/rooms/1.0.0)
  lifeline_relay_room_joins_total: {
    help: 'Room memberships on this relay by type: joined (a new one), updated (a newer record on its stream)',
    labelNames: ['type']
  },
  lifeline_relay_room_leaves_total: {
    help: 'Room memberships on this relay that ended (stream or connection closed, refused update, cut off)',
    labelNames: []
  },
  lifeline_relay_room_lookups_total: {
    help: 'Peer lookups answered',
    labelNames: []
  },
  lifeline_relay_room_refusals_total: {
    help: 'Rooms requests refused, by reason',
    labelNames: ['reason']
  },
  lifeline_relay_room_subscribers_cut_off_total: {
    help: 'Room members cut off because they did not read their events',
    labelNames: []
  },
  lifeline_relay_room_directory_changes_total: {
    help: 'The shared rooms directory (Redis) becoming unreachable (down) or reachable again (up)',
    labelNames: ['state']
  }
} as const satisfies Record<string, CounterMetric>

type CounterMetricName = keyof typeof COUNTER_METRICS

/** One series a counter adds to; `sign` -1 subtracts (a subset counted apart). */
type Contribution = readonly [metric: CounterMetricName, labels: Labels, sign?: -1]

/**
 * Where each counter goes. A `Record` over every counter name, so a counter added
 * to watch/counters.ts without a metric is a type error.
 */
export const COUNTER_SERIES: Readonly<Record<CounterName, readonly Contribution[]>> = {
  'socket-error': [['lifeline_relay_sockets_closed_total', { reason: 'socket-error' }]],
  'ws-protocol-error': [['lifeline_relay_sockets_closed_total', { reason: 'ws-protocol-error' }]],
  'upgrade-timeout': [['lifeline_relay_sockets_closed_total', { reason: 'upgrade-timeout' }]],
  'tls-handshake-timeout': [['lifeline_relay_sockets_closed_total', { reason: 'tls-handshake-timeout' }]],
  'tls-error': [['lifeline_relay_sockets_closed_total', { reason: 'tls-error' }]],
  'handshake-timeout': [['lifeline_relay_sockets_closed_total', { reason: 'handshake-timeout' }]],
  'handshake-failed': [['lifeline_relay_sockets_closed_total', { reason: 'handshake-failed' }]],
  'http-request-refused': [['lifeline_relay_sockets_closed_total', { reason: 'http-request-refused' }]],
  'idle-timeout': [['lifeline_relay_connections_closed_total', { reason: 'idle-timeout' }]],
  'refused-connections-total': [['lifeline_relay_connections_refused_total', { reason: 'connections-total' }]],
  'refused-connections-per-source': [['lifeline_relay_connections_refused_total', { reason: 'connections-per-source' }]],
  'refused-rate-total': [['lifeline_relay_connections_refused_total', { reason: 'rate-total' }]],
  'refused-rate-per-source': [['lifeline_relay_connections_refused_total', { reason: 'rate-per-source' }]],
  'refused-pending-total': [['lifeline_relay_connections_refused_total', { reason: 'pending-total' }]],
  'refused-pending-per-source': [['lifeline_relay_connections_refused_total', { reason: 'pending-per-source' }]],
  'reservation-refused-reservations-total': reservationRefused('reservations-total'),
  'reservation-refused-reservations-per-source': reservationRefused('reservations-per-source'),
  'reservation-refused-unauthorized': reservationRefused('unauthorized'),
  'circuit-refused-no-reservation': circuitRefused('no-reservation'),
  'circuit-refused-circuits-total': circuitRefused('circuits-total'),
  'circuit-refused-malformed': circuitRefused('malformed'),
  'circuit-refused-unauthorized': circuitRefused('unauthorized'),
  // go-libp2p counts CONNECTION_FAILED as an error of the relay, not a rejection
  'circuit-refused-connection-failed': [['libp2p_relaysvc_connection_request_response_status_total', { status: 'error' }]],
  'hop-malformed': [['lifeline_relay_hop_malformed_total', {}]],
  'auth-granted': [['lifeline_relay_tokens_total', { result: 'granted' }]],
  'auth-refused-token-malformed': [['lifeline_relay_tokens_total', { result: 'token-malformed' }]],
  'auth-refused-token-forged': [['lifeline_relay_tokens_total', { result: 'token-forged' }]],
  'auth-refused-token-expired': [['lifeline_relay_tokens_total', { result: 'token-expired' }]],
  'auth-refused-token-other-peer': [['lifeline_relay_tokens_total', { result: 'token-other-peer' }]],
  'auth-refused-token-claims': [['lifeline_relay_tokens_total', { result: 'token-claims' }]],
  // every accepted connection counts as `ws` until its transport's subset moves it
  'connections-accepted': [['lifeline_relay_connections_accepted_total', { transport: 'ws' }]],
  'connections-accepted-wss': acceptedAs('wss'),
  'connections-accepted-webrtc-direct': acceptedAs('webrtc-direct'),
  'reservations-granted': [
    ['libp2p_relaysvc_reservation_request_response_status_total', { status: 'ok' }],
    ['libp2p_relaysvc_reservations_total', { type: 'opened' }]
  ],
  'reservations-renewed': [
    ['libp2p_relaysvc_reservations_total', { type: 'renewed' }],
    ['libp2p_relaysvc_reservations_total', { type: 'opened' }, -1]
  ],
  'reservations-dropped-on-disconnect': [
    ['libp2p_relaysvc_reservations_total', { type: 'closed' }],
    ['lifeline_relay_reservations_closed_total', { reason: 'disconnect' }]
  ],
  'reservations-expired': [
    ['libp2p_relaysvc_reservations_total', { type: 'closed' }],
    ['lifeline_relay_reservations_closed_total', { reason: 'expired' }]
  ],
  'circuits-opened': [
    ['libp2p_relaysvc_connections_total', { type: 'opened' }],
    ['libp2p_relaysvc_connection_request_response_status_total', { status: 'ok' }]
  ],
  'circuits-closed': [['libp2p_relaysvc_connections_total', { type: 'closed' }]],
  'circuit-bytes': [['libp2p_relaysvc_data_transferred_bytes_total', {}]],
  // rooms
  'rooms-joined': [['lifeline_relay_room_joins_total', { type: 'joined' }]],
  'rooms-updated': [['lifeline_relay_room_joins_total', { type: 'updated' }]],
  'rooms-left': [['lifeline_relay_room_leaves_total', {}]],
  'rooms-lookups': [['lifeline_relay_room_lookups_total', {}]],
  'rooms-refused-malformed': roomRefused('malformed'),
  'rooms-refused-topic-invalid': roomRefused('topic-invalid'),
  'rooms-refused-peer-invalid': roomRefused('peer-invalid'),
  'rooms-refused-other-peer': roomRefused('other-peer'),
  'rooms-refused-signature-invalid': roomRefused('signature-invalid'),
  'rooms-refused-metadata-too-large': roomRefused('metadata-too-large'),
  'rooms-refused-other-topic': roomRefused('other-topic'),
  'rooms-refused-no-reservation': roomRefused('no-reservation'),
  'rooms-refused-unauthorized': roomRefused('unauthorized'),
  'rooms-refused-room-not-covered': roomRefused('room-not-covered'),
  'rooms-refused-rooms-per-peer': roomRefused('rooms-per-peer'),
  'rooms-refused-room-members': roomRefused('room-members'),
  'rooms-refused-directory-unavailable': roomRefused('directory-unavailable'),
  'rooms-subscriber-cut-off': [['lifeline_relay_room_subscribers_cut_off_total', {}]],
  'rooms-directory-down': [['lifeline_relay_room_directory_changes_total', { state: 'down' }]],
  'rooms-directory-up': [['lifeline_relay_room_directory_changes_total', { state: 'up' }]]
}

function roomRefused (reason: string): Contribution[] {
  return [['lifeline_relay_room_refusals_total', { reason }]]
}

function acceptedAs (transport: string): Contribution[] {
  return [
    ['lifeline_relay_connections_accepted_total', { transport }],
    ['lifeline_relay_connections_accepted_total', { transport: 'ws' }, -1]
  ]
}

function reservationRefused (reason: string): Contribution[] {
  return [
    ['libp2p_relaysvc_reservation_rejections_total', { reason }],
    ['libp2p_relaysvc_reservation_request_response_status_total', { status: 'rejected' }]
  ]
}

function circuitRefused (reason: string): Contribution[] {
  return [
    ['libp2p_relaysvc_connection_rejections_total', { reason }],
    ['libp2p_relaysvc_connection_request_response_status_total', { status: 'rejected' }]
  ]
}

/** Every series of every counter metric with its value, zeros included, so `rate()` has a start. */
export function counterSeries (read: (name: CounterName) => number): Map<CounterMetricName, Map<string, { labels: Labels, value: number }>> {
  const out = new Map<CounterMetricName, Map<string, { labels: Labels, value: number }>>()
  for (const metric of Object.keys(COUNTER_METRICS) as CounterMetricName[]) {
    out.set(metric, new Map())
  }
  for (const [name, contributions] of Object.entries(COUNTER_SERIES) as Array<[CounterName, readonly Contribution[]]>) {
    const value = read(name)
    for (const [metric, labels, sign = 1] of contributions) {
      const series = out.get(metric)
      const key = JSON.stringify(labels)
      const entry = series?.get(key) ?? { labels, value: 0 }
      entry.value += sign * value
      series?.set(key, entry)
    }
  }
  return out
}

/** A registry per relay (no module-level state): two relays in one process keep apart. */
export class RelayMetrics {
  readonly registry = new Registry()
  /** libp2p_relaysvc_connection_duration_seconds: give it to the HOP server. */
  readonly circuitDurations: Histogram

  constructor (components: RelayMetricsComponents) {
    const { registry } = this
    for (const [name, spec] of Object.entries(COUNTER_METRICS) as Array<[CounterMetricName, CounterMetric]>) {
      new Counter({
        name,
        help: spec.help,
        labelNames: spec.labelNames,
        registers: [registry],
        collect () {
          // a few dozen map reads per metric: cheaper than keeping a snapshot in step
          const series = counterSeries(counter => components.counters.get(counter)).get(name)
          this.reset()
          for (const { labels, value } of series?.values() ?? []) {
            this.inc(labels, Math.max(0, value))
          }
        }
      })
    }

    new Gauge({
      name: 'libp2p_relaysvc_status',
      help: 'Relay status: 1 while listening and serving, 0 while starting or stopping',
      registers: [registry],
      collect () { this.set(components.ready() ? 1 : 0) }
    })
    const holding = (name: string, help: string, read: (h: Holdings) => number): void => {
      new Gauge({ name, help, registers: [registry], collect () { this.set(read(components.holdings())) } })
    }
    holding('lifeline_relay_reservations', 'Reservations held', h => h.reservations)
    holding('lifeline_relay_circuits', 'Circuits open', h => h.circuits)
    holding('lifeline_relay_pending_connections', 'Connections in their handshake', h => h.pending)
    holding('lifeline_relay_sources', 'Sources (IPv4 addresses, IPv6 /64s) the relay holds state for', h => h.sources)
    new Gauge({
      name: 'lifeline_relay_connections',
      help: 'Established connections by transport',
      labelNames: ['transport'],
      registers: [registry],
      collect () {
        this.reset()
        this.set({ transport: 'ws' }, 0)
        for (const [transport, count] of Object.entries(components.holdings().connectionsByTransport)) {
          this.set({ transport }, count)
        }
      }
    })

    // rooms: members and rooms held here, and whether the shared directory answers
    const rooms = (name: string, help: string, read: (r: RoomHoldings) => number): void => {
      new Gauge({
        name,
        help,
        registers: [registry],
        collect () {
          const held = components.rooms?.()
          if (held !== undefined) {
            this.set(read(held))
          }
        }
      })
    }
    rooms('lifeline_relay_room_members', 'Room memberships held by this relay (JOIN streams)', r => r.members)
    rooms('lifeline_relay_rooms', 'Rooms with at least one member on this relay', r => r.rooms)
    rooms('lifeline_relay_room_directory_up', 'Whether the rooms directory answers: 1 (always, for the in-memory one), 0 while Redis is unreachable', r => r.directory === 'down' ? 0 : 1)

    this.circuitDurations = new Histogram({
      name: 'libp2p_relaysvc_connection_duration_seconds',
      help: 'How long circuits lasted',
      buckets: CIRCUIT_DURATION_BUCKETS_SECONDS,
      registers: [registry]
    })

    collectDefaultMetrics({ register: registry })
  }

  get contentType (): string {
    return this.registry.contentType
  }

  /** The Prometheus text exposition of every metric. */
  async render (): Promise<string> {
    return this.registry.metrics()
  }
}
