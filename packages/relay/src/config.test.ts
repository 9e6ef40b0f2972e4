import { describe, expect, it } from 'vitest'
import { defaultRelayConfig, parseCommandLine, type RelayConfig } from './config.js'
import {
  DEFAULT_CIRCUIT_BUFFER_BUDGET_BYTES, DEFAULT_CONNECTION_RATE, DEFAULT_CONNECTION_RATE_PER_SOURCE,
  DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_HOST, DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_KEY_FILE,
  DEFAULT_MAX_CIRCUITS_PER_PEER, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS_PER_SOURCE,
  DEFAULT_MAX_PENDING_CONNECTIONS, DEFAULT_MAX_PENDING_PER_SOURCE, DEFAULT_MAX_RESERVATIONS,
  DEFAULT_MAX_RESERVATIONS_PER_SOURCE, DEFAULT_PORT, DEFAULT_RESERVATION_TTL_SECONDS,
  DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS, DEFAULT_UPGRADE_TIMEOUT_MS
} from './constants.js'
import { ConfigError, isRelayError } from './errors.js'

function configOf (argv: string[], env: Record<string, string> = {}): RelayConfig {
  const command = parseCommandLine(argv, env)
  if (command.command !== 'run') {
    throw new Error(`expected a run command, got ${command.command}`)
  }
  return command.config
}

function errorOf (argv: string[], env: Record<string, string> = {}): string {
  try {
    parseCommandLine(argv, env)
  } catch (err: unknown) {
    expect(err).toBeInstanceOf(ConfigError)
    expect(isRelayError(err, 'CONFIG_INVALID')).toBe(true)
    return err instanceof Error ? err.message : String(err)
  }
  throw new Error(`expected ${argv.join(' ')} to be rejected`)
}

describe('parseCommandLine', () => {
  it('uses the documented defaults when given nothing', () => {
    expect(configOf([])).toEqual({
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
      redis: undefined,
      redisPrefix: 'lifeline:',
      presenceTtlSeconds: 20,
      maxRoomsPerPeer: 8,
      maxRoomMembers: 64,
      roomBufferBytes: 1024 * 1024
    })
    expect(configOf([])).toEqual(defaultRelayConfig())
    expect(DEFAULT_HOST).toBe('127.0.0.1')
  })

  it('listens for WebRTC-Direct only with --webrtc-direct, on any UDP port 0-65535', () => {
    expect(configOf([]).webrtcDirectPort).toBeUndefined()
    expect(configOf(['--webrtc-direct', '0']).webrtcDirectPort).toBe(0)
    expect(configOf(['--webrtc-direct=443']).webrtcDirectPort).toBe(443)
    expect(configOf([], { LIFELINE_RELAY_WEBRTC_DIRECT_PORT: '4002' }).webrtcDirectPort).toBe(4002)
    expect(configOf(['--webrtc-direct', '4003'], { LIFELINE_RELAY_WEBRTC_DIRECT_PORT: '4002' }).webrtcDirectPort).toBe(4003)
    expect(errorOf(['--webrtc-direct', '65536'])).toBe('--webrtc-direct must be an integer from 0 to 65535, got "65536"')
    expect(errorOf(['--webrtc-direct', 'udp'])).toBe('--webrtc-direct must be an integer from 0 to 65535, got "udp"')
    expect(errorOf(['--webrtc-direct'])).toBe('--webrtc-direct needs a value')
    expect(errorOf([], { LIFELINE_RELAY_WEBRTC_DIRECT_PORT: '-1' })).toBe('LIFELINE_RELAY_WEBRTC_DIRECT_PORT must be an integer from 0 to 65535, got "-1"')
  })

  it('reads every flag', () => {
    expect(configOf([
      '--host', '0.0.0.0', '--port', '4500', '--key', '/tmp/k',
      '--announce', '/dns4/relay.example.com/tcp/443/wss', '--announce', '/ip4/203.0.113.7/tcp/4001/ws',
      '--max-reservations', '10', '--reservation-ttl', '600', '--max-circuits', '8',
      '--max-circuit-bytes', '1048576', '--max-circuit-seconds', '300',
      '--max-reservations-per-ip', '3', '--max-connections', '100', '--max-connections-per-ip', '4',
      '--connection-rate', '50', '--connection-rate-per-ip', '5', '--max-pending', '20', '--max-pending-per-ip', '6',
      '--upgrade-timeout-ms', '1500', '--handshake-timeout-ms', '2500', '--idle-timeout-ms', '3500',
      '--circuit-buffer-budget', '1048576'
    ])).toEqual({
      ...defaultRelayConfig(),
      host: '0.0.0.0',
      port: 4500,
      keyFile: '/tmp/k',
      announce: ['/dns4/relay.example.com/tcp/443/wss', '/ip4/203.0.113.7/tcp/4001/ws'],
      maxReservations: 10,
      reservationTtlSeconds: 600,
      maxCircuitsPerPeer: 8,
      maxCircuitBytes: 1048576n,
      maxCircuitSeconds: 300,
      maxReservationsPerSource: 3,
      maxConnections: 100,
      maxConnectionsPerSource: 4,
      connectionRate: 50,
      connectionRatePerSource: 5,
      maxPendingConnections: 20,
      maxPendingPerSource: 6,
      upgradeTimeoutMs: 1500,
      handshakeTimeoutMs: 2500,
      idleTimeoutMs: 3500,
      circuitBufferBudgetBytes: 1048576
    })
  })

  it('reads the allowed-peers file from a flag or the environment', () => {
    expect(configOf(['--allow-peers', 'peers.txt']).allowPeersFile).toBe('peers.txt')
    expect(configOf([], { LIFELINE_RELAY_ALLOW_PEERS: 'env.txt' }).allowPeersFile).toBe('env.txt')
  })

  it('accepts --flag=value as well as --flag value', () => {
    expect(configOf(['--port=0', '--host=::1', '--key=./a=b.key'])).toMatchObject({ port: 0, host: '::1', keyFile: './a=b.key' })
  })

  it('accepts port 0 to pick a free port', () => {
    expect(configOf(['--port', '0']).port).toBe(0)
  })

  it('reads host, port and key file from the environment', () => {
    const env = { LIFELINE_RELAY_HOST: '0.0.0.0', LIFELINE_RELAY_PORT: '4100', LIFELINE_RELAY_KEY: '/var/lib/relay.key' }
    expect(configOf([], env)).toMatchObject({ host: '0.0.0.0', port: 4100, keyFile: '/var/lib/relay.key' })
  })

  it('lets flags win over environment variables', () => {
    expect(configOf(['--port', '4200'], { LIFELINE_RELAY_PORT: '4100' }).port).toBe(4200)
  })

  it('treats an empty environment variable as unset', () => {
    expect(configOf([], { LIFELINE_RELAY_PORT: '' }).port).toBe(DEFAULT_PORT)
  })

  it('names the environment variable when its value is bad', () => {
    expect(errorOf([], { LIFELINE_RELAY_PORT: 'http' })).toBe('LIFELINE_RELAY_PORT must be an integer from 0 to 65535, got "http"')
  })

  it('returns help for --help and -h, even after other flags', () => {
    expect(parseCommandLine(['--help'])).toEqual({ command: 'help' })
    expect(parseCommandLine(['--port', '1', '-h'])).toEqual({ command: 'help' })
  })

  it('rejects an unknown flag', () => {
    expect(errorOf(['--prot', '4001'])).toBe('unknown option --prot')
  })

  it('rejects a positional argument', () => {
    expect(errorOf(['4001'])).toBe('unexpected argument "4001"')
  })

  it('rejects a flag without its value', () => {
    expect(errorOf(['--port'])).toBe('--port needs a value')
    expect(errorOf(['--key', '--port', '1'])).toBe('--key needs a value')
  })

  it('rejects a value given to --help', () => {
    expect(errorOf(['--help=yes'])).toBe('--help takes no value')
  })

  it.each([
    [['--port', '65536'], '--port must be an integer from 0 to 65535, got "65536"'],
    [['--port', '-1'], '--port must be an integer from 0 to 65535, got "-1"'],
    [['--port', '12.5'], '--port must be an integer from 0 to 65535, got "12.5"'],
    [['--port', ''], '--port must be an integer from 0 to 65535, got ""'],
    [['--max-reservations', '0'], '--max-reservations must be an integer of at least 1, got "0"'],
    [['--max-circuits', 'many'], '--max-circuits must be an integer of at least 1, got "many"'],
    [['--reservation-ttl', '9999999'], '--reservation-ttl must be an integer from 1 to 2147483, got "9999999"'],
    [['--max-circuit-seconds', '0'], '--max-circuit-seconds must be an integer from 1 to 2147483, got "0"'],
    [['--max-circuit-bytes', '1e6'], '--max-circuit-bytes must be a number of bytes from 1 to 18446744073709551615, got "1e6"'],
    [['--max-circuit-bytes', '18446744073709551616'], '--max-circuit-bytes must be a number of bytes from 1 to 18446744073709551615, got "18446744073709551616"']
  ])('rejects the out-of-range or malformed number in %j', (argv, message) => {
    expect(errorOf(argv)).toBe(message)
  })

  it('rejects a host that is not an IP address', () => {
    expect(errorOf(['--host', 'localhost'])).toMatch(/^--host must be an IPv4 or IPv6 address/)
  })

  it('rejects an announce address that is not a multiaddr', () => {
    expect(errorOf(['--announce', 'relay.example.com:443'])).toMatch(/^--announce must be a multiaddr/)
  })

  it('reads the metrics address as HOST:PORT, IPv6 in brackets, from a flag or the environment', () => {
    expect(configOf(['--metrics', '127.0.0.1:9464']).metrics).toEqual({ host: '127.0.0.1', port: 9464 })
    expect(configOf(['--metrics=[::1]:0']).metrics).toEqual({ host: '::1', port: 0 })
    expect(configOf([], { LIFELINE_RELAY_METRICS: '10.0.0.5:9464' }).metrics).toEqual({ host: '10.0.0.5', port: 9464 })
  })

  it.each(['9464', 'localhost:9464', '::1:9464', '[127.0.0.1]:9464', '127.0.0.1:', '127.0.0.1:65536', '127.0.0.1:http', '[::1]'])(
    'rejects the metrics address %j with a clear message', value => {
      expect(errorOf(['--metrics', value])).toBe(`--metrics must be HOST:PORT with an IP address and a port from 0 to 65535, such as 127.0.0.1:9464 or [::1]:9464, got "${value}"`)
    })

  it('reads the log format from a flag or the environment, and refuses others', () => {
    expect(configOf(['--log-format', 'json']).logFormat).toBe('json')
    expect(configOf([], { LIFELINE_RELAY_LOG_FORMAT: 'json' }).logFormat).toBe('json')
    expect(errorOf(['--log-format', 'JSON'])).toBe('--log-format must be one of text, json, got "JSON"')
  })

  it('collects every --auth-public-key, for key rotation', () => {
    expect(configOf(['--auth-public-key', 'old.pem', '--auth-public-key=new.pem']).authPublicKeyFiles).toEqual(['old.pem', 'new.pem'])
  })

  it('reads the TLS certificate and key from flags or the environment', () => {
    expect(configOf(['--tls-cert', 'fullchain.pem', '--tls-key', 'privkey.pem', '--tls-handshake-timeout-ms', '3000'])).toEqual({
      ...defaultRelayConfig(),
      tlsCert: 'fullchain.pem',
      tlsKey: 'privkey.pem',
      tlsHandshakeTimeoutMs: 3000
    })
    const fromEnv = configOf([], { LIFELINE_RELAY_TLS_CERT: 'c.pem', LIFELINE_RELAY_TLS_KEY: 'k.pem' })
    expect([fromEnv.tlsCert, fromEnv.tlsKey]).toEqual(['c.pem', 'k.pem'])
  })

  it('refuses a TLS certificate without its key, and a key without its certificate', () => {
    expect(errorOf(['--tls-cert', 'fullchain.pem'])).toMatch(/--tls-cert \(tlsCert\) needs --tls-key \(tlsKey\) too/)
    expect(errorOf(['--tls-key', 'privkey.pem'])).toMatch(/--tls-key \(tlsKey\) needs --tls-cert \(tlsCert\) too/)
    expect(errorOf([], { LIFELINE_RELAY_TLS_KEY: 'privkey.pem' })).toMatch(/needs --tls-cert/)
  })

  it('reads the rooms options, and refuses a Redis URL without repeating it', () => {
    expect(configOf(['--redis', 'redis://127.0.0.1:6379', '--redis-prefix', 'app1:', '--presence-ttl-seconds', '5',
      '--max-rooms-per-peer', '3', '--max-room-members', '10', '--room-buffer-bytes', '65536'])).toEqual({
      ...defaultRelayConfig(),
      redis: 'redis://127.0.0.1:6379',
      redisPrefix: 'app1:',
      presenceTtlSeconds: 5,
      maxRoomsPerPeer: 3,
      maxRoomMembers: 10,
      roomBufferBytes: 65536
    })
    expect(configOf([], { LIFELINE_RELAY_REDIS: 'rediss://u:secret@redis.example.com:6380/1' }).redis).toBe('rediss://u:secret@redis.example.com:6380/1')
    const message = errorOf(['--redis', 'http://u:secret@redis.example.com'])
    expect(message).toMatch(/--redis must be a Redis URL/)
    expect(message).not.toContain('secret')
  })

  it('keeps byte counts above 2^53 exact', () => {
    expect(configOf(['--max-circuit-bytes', '9007199254740993']).maxCircuitBytes).toBe(9007199254740993n)
  })
})
