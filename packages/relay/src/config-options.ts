/**
 * The relay's options: each flag with its config-file key, environment variable and
 * the parser that checks its value (config-values.ts). config.ts reads them from the
 * command line, the environment and a config file.
 */
import { isIP } from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'
import { MAX_TIMER_MS } from './constants.js'
import { ConfigError } from './errors.js'
import type { FileOption } from './config-file.js'
import { parseByteCount, parseInteger, parseListenAddress, parseRedisUrl } from './config-values.js'
import type { RelayConfig } from './config.js'
import { LOG_FORMATS } from './watch/logger.js'

const MAX_TIMER_SECONDS = Math.floor(MAX_TIMER_MS / 1000)

export interface OptionSpec extends FileOption {
  env?: string
}

/** Every flag, its config-file key (`field`), environment variable and parser. */
export const OPTIONS: Readonly<Record<string, OptionSpec>> = {
  '--host': {
    field: 'host',
    type: 'string',
    env: 'LIFELINE_RELAY_HOST',
    apply: (config, value, source) => {
      if (isIP(value) === 0) {
        throw new ConfigError(`${source} must be an IPv4 or IPv6 address such as 127.0.0.1 or 0.0.0.0, got "${value}"`)
      }
      config.host = value
    }
  },
  '--port': {
    field: 'port',
    type: 'integer',
    env: 'LIFELINE_RELAY_PORT',
    apply: (config, value, source) => { config.port = parseInteger(value, source, 0, 65535) }
  },
  '--key': {
    field: 'keyFile',
    type: 'string',
    env: 'LIFELINE_RELAY_KEY',
    apply: (config, value) => { config.keyFile = value }
  },
  '--webrtc-direct': {
    field: 'webrtcDirectPort',
    type: 'integer',
    env: 'LIFELINE_RELAY_WEBRTC_DIRECT_PORT',
    apply: (config, value, source) => { config.webrtcDirectPort = parseInteger(value, source, 0, 65535) }
  },
  '--announce': {
    field: 'announce',
    type: 'strings',
    apply: (config, value, source) => {
      try {
        multiaddr(value)
      } catch {
        throw new ConfigError(`${source} must be a multiaddr such as /dns4/relay.example.com/tcp/443/wss, got "${value}"`)
      }
      config.announce.push(value)
    }
  },
  '--max-reservations': {
    field: 'maxReservations',
    type: 'integer',
    apply: (config, value, source) => { config.maxReservations = parseInteger(value, source, 1) }
  },
  '--reservation-ttl': {
    field: 'reservationTtlSeconds',
    type: 'integer',
    apply: (config, value, source) => { config.reservationTtlSeconds = parseInteger(value, source, 1, MAX_TIMER_SECONDS) }
  },
  '--max-circuits': {
    field: 'maxCircuitsPerPeer',
    type: 'integer',
    apply: (config, value, source) => { config.maxCircuitsPerPeer = parseInteger(value, source, 1) }
  },
  '--max-circuit-bytes': {
    field: 'maxCircuitBytes',
    type: 'bytes',
    apply: (config, value, source) => { config.maxCircuitBytes = parseByteCount(value, source) }
  },
  '--max-circuit-seconds': {
    field: 'maxCircuitSeconds',
    type: 'integer',
    apply: (config, value, source) => { config.maxCircuitSeconds = parseInteger(value, source, 1, MAX_TIMER_SECONDS) }
  },
  '--allow-peers': {
    field: 'allowPeersFile',
    type: 'string',
    env: 'LIFELINE_RELAY_ALLOW_PEERS',
    apply: (config, value) => { config.allowPeersFile = value }
  },
  '--max-reservations-per-ip': integerOption('maxReservationsPerSource', 1),
  '--max-connections': integerOption('maxConnections', 1),
  '--max-connections-per-ip': integerOption('maxConnectionsPerSource', 1),
  '--connection-rate': integerOption('connectionRate', 1),
  '--connection-rate-per-ip': integerOption('connectionRatePerSource', 1),
  '--max-pending': integerOption('maxPendingConnections', 1),
  '--max-pending-per-ip': integerOption('maxPendingPerSource', 1),
  '--upgrade-timeout-ms': integerOption('upgradeTimeoutMs', 1, MAX_TIMER_MS),
  '--handshake-timeout-ms': integerOption('handshakeTimeoutMs', 1, MAX_TIMER_MS),
  '--idle-timeout-ms': integerOption('idleTimeoutMs', 1, MAX_TIMER_MS),
  '--circuit-buffer-budget': integerOption('circuitBufferBudgetBytes', 1),
  '--metrics': {
    field: 'metrics',
    type: 'string',
    env: 'LIFELINE_RELAY_METRICS',
    apply: (config, value, source) => { config.metrics = parseListenAddress(value, source) }
  },
  '--auth-public-key': {
    field: 'authPublicKeyFiles',
    type: 'strings',
    apply: (config, value) => { config.authPublicKeyFiles.push(value) }
  },
  '--tls-cert': {
    field: 'tlsCert',
    type: 'string',
    env: 'LIFELINE_RELAY_TLS_CERT',
    apply: (config, value) => { config.tlsCert = value }
  },
  '--tls-key': {
    field: 'tlsKey',
    type: 'string',
    env: 'LIFELINE_RELAY_TLS_KEY',
    apply: (config, value) => { config.tlsKey = value }
  },
  '--tls-handshake-timeout-ms': integerOption('tlsHandshakeTimeoutMs', 1, MAX_TIMER_MS),
  '--log-format': {
    field: 'logFormat',
    type: 'string',
    env: 'LIFELINE_RELAY_LOG_FORMAT',
    apply: (config, value, source) => {
      const format = LOG_FORMATS.find(f => f === value)
      if (format === undefined) {
        throw new ConfigError(`${source} must be one of ${LOG_FORMATS.join(', ')}, got "${value}"`)
      }
      config.logFormat = format
    }
  },
  // rooms
  '--redis': {
    field: 'redis',
    type: 'string',
    env: 'LIFELINE_RELAY_REDIS',
    apply: (config, value, source) => { config.redis = parseRedisUrl(value, source) }
  },
  '--redis-prefix': {
    field: 'redisPrefix',
    type: 'string',
    apply: (config, value) => { config.redisPrefix = value }
  },
  '--presence-ttl-seconds': integerOption('presenceTtlSeconds', 1, MAX_TIMER_SECONDS),
  '--max-rooms-per-peer': integerOption('maxRoomsPerPeer', 1),
  '--max-room-members': integerOption('maxRoomMembers', 1),
  '--room-buffer-bytes': integerOption('roomBufferBytes', 1)
}

type IntegerField = {
  [K in keyof RelayConfig]: RelayConfig[K] extends number ? K : never
}[keyof RelayConfig]

function integerOption (field: IntegerField, min: number, max?: number): OptionSpec {
  return { field, type: 'integer', apply: (config, value, source) => { config[field] = parseInteger(value, source, min, max) } }
}
