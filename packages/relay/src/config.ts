/**
 * Turns command-line arguments, environment variables and a config file into a
 * `RelayConfig`. Pure but for reading the `--config` file, which goes through an
 * injected reader, so every flag, key and error is a unit test away. Flags win over
 * environment variables, which win over the file, which wins over the defaults in
 * `constants.ts`.
 */
import { readFileSync } from 'node:fs'
import {
  DEFAULT_CIRCUIT_BUFFER_BUDGET_BYTES, DEFAULT_CONNECTION_RATE, DEFAULT_CONNECTION_RATE_PER_SOURCE,
  DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_HOST, DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_KEY_FILE,
  DEFAULT_MAX_CIRCUITS_PER_PEER, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS_PER_SOURCE,
  DEFAULT_MAX_PENDING_CONNECTIONS, DEFAULT_MAX_PENDING_PER_SOURCE, DEFAULT_MAX_RESERVATIONS,
  DEFAULT_MAX_RESERVATIONS_PER_SOURCE, DEFAULT_PORT, DEFAULT_RESERVATION_TTL_SECONDS,
  DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS, DEFAULT_UPGRADE_TIMEOUT_MS
} from './constants.js'
import {
  DEFAULT_MAX_ROOM_MEMBERS, DEFAULT_MAX_ROOMS_PER_PEER, DEFAULT_PRESENCE_TTL_SECONDS, DEFAULT_REDIS_PREFIX,
  DEFAULT_ROOM_SUBSCRIBER_BUFFER_BYTES
} from './constants.js'
import { ConfigError } from './errors.js'
import { applyConfigFile } from './config-file.js'
import { OPTIONS } from './config-options.js'
import type { LogFormat } from './watch/logger.js'

/** An IP address and TCP port to listen on. */
export interface ListenAddress {
  host: string
  port: number
}

export interface RelayConfig {
  /** IPv4 or IPv6 address to listen on. @default DEFAULT_HOST */
  host: string
  /** TCP port for WebSocket connections; 0 picks a free one. @default DEFAULT_PORT */
  port: number
  /** Path of the protobuf-encoded private key; created on first start. @default DEFAULT_KEY_FILE */
  keyFile: string
  /**
   * UDP port for WebRTC-Direct on `host`; 0 picks a free one; undefined (the
   * default) does not listen. Its DTLS certificate is kept in `keyFile` +
   * WEBRTC_DIRECT_CERTIFICATE_SUFFIX.
   */
  webrtcDirectPort: number | undefined
  /** Multiaddrs to announce instead of the listen addresses (a relay behind NAT or a proxy). */
  announce: string[]
  /** Peers that may hold a reservation at once. @default DEFAULT_MAX_RESERVATIONS */
  maxReservations: number
  /** How long a reservation lasts unless refreshed. @default DEFAULT_RESERVATION_TTL_SECONDS */
  reservationTtlSeconds: number
  /** Circuits one peer may have open at once, per direction. @default DEFAULT_MAX_CIRCUITS_PER_PEER */
  maxCircuitsPerPeer: number
  /** Bytes one circuit may carry (both directions together); undefined means unlimited. */
  maxCircuitBytes: bigint | undefined
  /** Seconds one circuit may stay open; undefined means unlimited. */
  maxCircuitSeconds: number | undefined
  /** File of peer IDs allowed to use the relay (see allowlist.ts); undefined lets anyone in. */
  allowPeersFile: string | undefined
  /** Reservations one source (IPv4 address, IPv6 /64) may hold. @default DEFAULT_MAX_RESERVATIONS_PER_SOURCE */
  maxReservationsPerSource: number
  /** Connections open at once. @default DEFAULT_MAX_CONNECTIONS */
  maxConnections: number
  /** Connections one source may hold. @default DEFAULT_MAX_CONNECTIONS_PER_SOURCE */
  maxConnectionsPerSource: number
  /** New connections a second, all sources. @default DEFAULT_CONNECTION_RATE */
  connectionRate: number
  /** New connections a second from one source. @default DEFAULT_CONNECTION_RATE_PER_SOURCE */
  connectionRatePerSource: number
  /** Connections in their handshake at once. @default DEFAULT_MAX_PENDING_CONNECTIONS */
  maxPendingConnections: number
  /** Connections in their handshake from one source. @default DEFAULT_MAX_PENDING_PER_SOURCE */
  maxPendingPerSource: number
  /** TCP accept to WebSocket upgrade. @default DEFAULT_UPGRADE_TIMEOUT_MS */
  upgradeTimeoutMs: number
  /** WebSocket upgrade to libp2p connection. @default DEFAULT_HANDSHAKE_TIMEOUT_MS */
  handshakeTimeoutMs: number
  /** A connection with no reservation and no circuit is closed after this. @default DEFAULT_IDLE_TIMEOUT_MS */
  idleTimeoutMs: number
  /** Bytes all circuits may buffer at once; sets how many circuits may be open. @default DEFAULT_CIRCUIT_BUFFER_BUDGET_BYTES */
  circuitBufferBudgetBytes: number
  /** Where to serve `/metrics` and `/healthz`; undefined serves neither. */
  metrics: ListenAddress | undefined
  /** How log lines are written: `text` for people, `json` for log shippers. @default 'text' */
  logFormat: LogFormat
  /**
   * PEM files of the Ed25519 public keys whose signed tokens let a peer reserve and
   * relay (see serve/auth-server.ts); empty asks for no token.
   */
  authPublicKeyFiles: string[]
  /**
   * PEM certificate chain (certbot's `fullchain.pem`): with `tlsKey`, the listener
   * serves TLS and the relay's addresses end in `/tls/ws`. Both or neither.
   */
  tlsCert: string | undefined
  /** PEM private key of `tlsCert` (certbot's `privkey.pem`). */
  tlsKey: string | undefined
  /** TCP accept to a finished TLS handshake. @default DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS */
  tlsHandshakeTimeoutMs: number

  // ---- Rooms (/lifeline/rooms/1.0.0; see rooms/) ----
  /**
   * `redis://[user:password@]HOST:PORT[/DB]` (or `rediss://`) of the Redis a fleet
   * of relays shares its rooms and reservations in; undefined keeps them in memory,
   * for this relay alone. Never logged with its credentials.
   */
  redis: string | undefined
  /** Prefix of every Redis key and channel. @default DEFAULT_REDIS_PREFIX */
  redisPrefix: string
  /** How long a presence in Redis outlives its relay. @default DEFAULT_PRESENCE_TTL_SECONDS */
  presenceTtlSeconds: number
  /** Rooms one peer may be in at once on this relay. @default DEFAULT_MAX_ROOMS_PER_PEER */
  maxRoomsPerPeer: number
  /** Members one room may have on this relay; also the most one SNAPSHOT lists. @default DEFAULT_MAX_ROOM_MEMBERS */
  maxRoomMembers: number
  /** Event bytes queued for one room member that does not read before it is cut off. @default DEFAULT_ROOM_SUBSCRIBER_BUFFER_BYTES */
  roomBufferBytes: number
}

export type CliCommand =
  | { command: 'help' }
  | { command: 'run', config: RelayConfig }

export type Environment = Readonly<Record<string, string | undefined>>

export function defaultRelayConfig (): RelayConfig {
  return {
    host: DEFAULT_HOST,
    port: DEFAULT_PORT,
    keyFile: DEFAULT_KEY_FILE,
    webrtcDirectPort: undefined,
    announce: [],
    maxReservations: DEFAULT_MAX_RESERVATIONS,
    reservationTtlSeconds: DEFAULT_RESERVATION_TTL_SECONDS,
    maxCircuitsPerPeer: DEFAULT_MAX_CIRCUITS_PER_PEER,
    maxCircuitBytes: undefined,
    maxCircuitSeconds: undefined,
    allowPeersFile: undefined,
    maxReservationsPerSource: DEFAULT_MAX_RESERVATIONS_PER_SOURCE,
    maxConnections: DEFAULT_MAX_CONNECTIONS,
    maxConnectionsPerSource: DEFAULT_MAX_CONNECTIONS_PER_SOURCE,
    connectionRate: DEFAULT_CONNECTION_RATE,
    connectionRatePerSource: DEFAULT_CONNECTION_RATE_PER_SOURCE,
    maxPendingConnections: DEFAULT_MAX_PENDING_CONNECTIONS,
    maxPendingPerSource: DEFAULT_MAX_PENDING_PER_SOURCE,
    upgradeTimeoutMs: DEFAULT_UPGRADE_TIMEOUT_MS,
    handshakeTimeoutMs: DEFAULT_HANDSHAKE_TIMEOUT_MS,
    idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS,
    circuitBufferBudgetBytes: DEFAULT_CIRCUIT_BUFFER_BUDGET_BYTES,
    metrics: undefined,
    logFormat: 'text',
    authPublicKeyFiles: [],
    tlsCert: undefined,
    tlsKey: undefined,
    tlsHandshakeTimeoutMs: DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS,
    // rooms
    redis: undefined,
    redisPrefix: DEFAULT_REDIS_PREFIX,
    presenceTtlSeconds: DEFAULT_PRESENCE_TTL_SECONDS,
    maxRoomsPerPeer: DEFAULT_MAX_ROOMS_PER_PEER,
    maxRoomMembers: DEFAULT_MAX_ROOM_MEMBERS,
    roomBufferBytes: DEFAULT_ROOM_SUBSCRIBER_BUFFER_BYTES
  }
}

/** Reads the `--config` file; `readFileSync` outside tests. */
export type ReadConfigFile = (path: string) => string

const CONFIG_FLAG = '--config'
const CONFIG_ENV = 'LIFELINE_RELAY_CONFIG'

/**
 * Layers, each winning over the one before: the defaults, the `--config` file, the
 * environment, the flags. A repeatable flag (`--announce`) replaces the file's list.
 *
 * @throws ConfigError (code `CONFIG_INVALID`) for an unknown flag, a flag without
 * its value, a value that is malformed or out of range, or a config file that
 * cannot be read, is not JSON, has an unknown key or a value of the wrong type
 */
export function parseCommandLine (argv: readonly string[], env: Environment = {}, readFile: ReadConfigFile = readConfigFile): CliCommand {
  const flags = readFlags(argv)
  if (flags === 'help') {
    return { command: 'help' }
  }
  const config = defaultRelayConfig()

  const envFile = env[CONFIG_ENV]
  const file = flags.findLast(([flag]) => flag === CONFIG_FLAG)?.[1] ?? (envFile === '' ? undefined : envFile)
  if (file !== undefined) {
    let text: string
    try {
      text = readFile(file)
    } catch (err: unknown) {
      throw new ConfigError(`cannot read the config file ${file}: ${err instanceof Error ? err.message : String(err)}`)
    }
    applyConfigFile(config, text, file, Object.values(OPTIONS))
  }

  for (const spec of Object.values(OPTIONS)) {
    const value = spec.env === undefined ? undefined : env[spec.env]
    // an empty variable counts as unset, as in most shells' `VAR= command` idiom
    if (spec.env !== undefined && value !== undefined && value !== '') {
      spec.apply(config, value, spec.env)
    }
  }

  const replaced = new Set<keyof RelayConfig>()
  for (const [flag, value] of flags) {
    const spec = OPTIONS[flag]
    if (spec === undefined) {
      continue
    }
    if (spec.type === 'strings' && !replaced.has(spec.field) && (spec.field === 'announce' || spec.field === 'authPublicKeyFiles')) {
      replaced.add(spec.field)
      config[spec.field] = []
    }
    spec.apply(config, value, flag)
  }

  checkTlsFiles(config)
  return { command: 'run', config }
}

/**
 * A certificate without its key (or the reverse) cannot serve TLS, and serving
 * plain WebSockets instead would quietly break every `wss://` client.
 *
 * @throws ConfigError when only one of `tlsCert` and `tlsKey` is set
 */
export function checkTlsFiles (config: Pick<RelayConfig, 'tlsCert' | 'tlsKey'>): void {
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    const [given, missing] = config.tlsCert === undefined ? ['--tls-key (tlsKey)', '--tls-cert (tlsCert)'] : ['--tls-cert (tlsCert)', '--tls-key (tlsKey)']
    throw new ConfigError(`${given} needs ${missing} too: TLS takes a certificate and its private key, such as certbot's fullchain.pem and privkey.pem`)
  }
}

/** The flags and their values in order, or 'help'; nothing is applied yet. */
function readFlags (argv: readonly string[]): Array<[flag: string, value: string]> | 'help' {
  const flags: Array<[string, string]> = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? ''
    const eq = arg.indexOf('=')
    const flag = arg.startsWith('--') && eq !== -1 ? arg.slice(0, eq) : arg

    if (flag === '--help' || flag === '-h') {
      if (flag !== arg) {
        throw new ConfigError(`${flag} takes no value`)
      }
      return 'help'
    }

    if (OPTIONS[flag] === undefined && flag !== CONFIG_FLAG) {
      throw new ConfigError(arg.startsWith('-') ? `unknown option ${flag}` : `unexpected argument "${arg}"`)
    }

    let value: string | undefined
    if (flag !== arg) {
      value = arg.slice(eq + 1)
    } else {
      value = argv[i + 1]
      if (value === undefined || value.startsWith('--')) {
        throw new ConfigError(`${flag} needs a value`)
      }
      i++
    }
    flags.push([flag, value])
  }
  return flags
}

function readConfigFile (path: string): string {
  return readFileSync(path, 'utf8')
}

export { USAGE } from './usage.js'
