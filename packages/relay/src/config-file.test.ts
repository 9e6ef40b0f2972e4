import { describe, expect, it } from 'vitest'
import { defaultRelayConfig, parseCommandLine, type RelayConfig } from './config.js'
import { isRelayError } from './errors.js'

const FILE = '/etc/lifeline/relay.json'

/** parseCommandLine with `json` as the content of FILE. */
function configWith (json: unknown, argv: string[] = [], env: Record<string, string> = {}): RelayConfig {
  const command = parseCommandLine(['--config', FILE, ...argv], env, path => {
    expect(path).toBe(FILE)
    return typeof json === 'string' ? json : JSON.stringify(json)
  })
  if (command.command !== 'run') {
    throw new Error(`expected a run command, got ${command.command}`)
  }
  return command.config
}

function errorWith (json: unknown): string {
  try {
    configWith(json)
  } catch (err: unknown) {
    expect(isRelayError(err, 'CONFIG_INVALID')).toBe(true)
    return err instanceof Error ? err.message : String(err)
  }
  throw new Error(`expected ${JSON.stringify(json)} to be rejected`)
}

describe('config file', () => {
  it('reads every option under its RelayConfig name', () => {
    expect(configWith({
      host: '0.0.0.0',
      port: 443,
      keyFile: '/var/lib/lifeline-relay/relay.key',
      webrtcDirectPort: 443,
      announce: ['/dns4/relay.example.com/tcp/443/wss'],
      maxReservations: 5000,
      reservationTtlSeconds: 3600,
      maxCircuitsPerPeer: 32,
      maxCircuitBytes: '18446744073709551615',
      maxCircuitSeconds: 600,
      allowPeersFile: '/etc/lifeline/peers.txt',
      maxReservationsPerSource: 16,
      maxConnections: 6000,
      maxConnectionsPerSource: 16,
      connectionRate: 40,
      connectionRatePerSource: 8,
      maxPendingConnections: 256,
      maxPendingPerSource: 16,
      upgradeTimeoutMs: 5000,
      handshakeTimeoutMs: 5000,
      idleTimeoutMs: 30000,
      circuitBufferBudgetBytes: 268435456,
      metrics: '127.0.0.1:9464',
      logFormat: 'json',
      authPublicKeyFiles: ['/etc/lifeline/issuer-2025.pem', '/etc/lifeline/issuer-2026.pem'],
      tlsCert: '/etc/letsencrypt/live/relay.example.com/fullchain.pem',
      tlsKey: '/etc/letsencrypt/live/relay.example.com/privkey.pem',
      tlsHandshakeTimeoutMs: 4000,
      redis: 'redis://10.0.0.9:6379',
      redisPrefix: 'relays:',
      presenceTtlSeconds: 30,
      maxRoomsPerPeer: 4,
      maxRoomMembers: 32,
      roomBufferBytes: 524288
    })).toEqual({
      host: '0.0.0.0',
      port: 443,
      keyFile: '/var/lib/lifeline-relay/relay.key',
      webrtcDirectPort: 443,
      announce: ['/dns4/relay.example.com/tcp/443/wss'],
      maxReservations: 5000,
      reservationTtlSeconds: 3600,
      maxCircuitsPerPeer: 32,
      maxCircuitBytes: 18446744073709551615n,
      maxCircuitSeconds: 600,
      allowPeersFile: '/etc/lifeline/peers.txt',
      maxReservationsPerSource: 16,
      maxConnections: 6000,
      maxConnectionsPerSource: 16,
      connectionRate: 40,
      connectionRatePerSource: 8,
      maxPendingConnections: 256,
      maxPendingPerSource: 16,
      upgradeTimeoutMs: 5000,
      handshakeTimeoutMs: 5000,
      idleTimeoutMs: 30000,
      circuitBufferBudgetBytes: 268435456,
      metrics: { host: '127.0.0.1', port: 9464 },
      logFormat: 'json',
      authPublicKeyFiles: ['/etc/lifeline/issuer-2025.pem', '/etc/lifeline/issuer-2026.pem'],
      tlsCert: '/etc/letsencrypt/live/relay.example.com/fullchain.pem',
      tlsKey: '/etc/letsencrypt/live/relay.example.com/privkey.pem',
      tlsHandshakeTimeoutMs: 4000,
      redis: 'redis://10.0.0.9:6379',
      redisPrefix: 'relays:',
      presenceTtlSeconds: 30,
      maxRoomsPerPeer: 4,
      maxRoomMembers: 32,
      roomBufferBytes: 524288
    })
  })

  it('accepts a byte count as a JSON number too', () => {
    expect(configWith({ maxCircuitBytes: 1048576 }).maxCircuitBytes).toBe(1048576n)
  })

  it('leaves what the file does not name at its default', () => {
    expect(configWith({})).toEqual(defaultRelayConfig())
  })

  it('lets flags win over the file, and environment variables too', () => {
    const config = configWith({ port: 443, host: '0.0.0.0', maxCircuitsPerPeer: 8 }, ['--port', '4002'], { LIFELINE_RELAY_HOST: '127.0.0.2' })
    expect(config).toMatchObject({ port: 4002, host: '127.0.0.2', maxCircuitsPerPeer: 8 })
  })

  it('lets --announce flags replace the file\'s list rather than add to it', () => {
    const file = { announce: ['/dns4/a.example.com/tcp/443/wss', '/dns4/b.example.com/tcp/443/wss'] }
    expect(configWith(file).announce).toEqual(file.announce)
    expect(configWith(file, ['--announce', '/dns4/c.example.com/tcp/443/wss', '--announce', '/dns4/d.example.com/tcp/443/wss']).announce)
      .toEqual(['/dns4/c.example.com/tcp/443/wss', '/dns4/d.example.com/tcp/443/wss'])
  })

  it('is found through LIFELINE_RELAY_CONFIG, and a --config flag wins over it', () => {
    const read = (path: string): string => JSON.stringify({ port: path === 'env.json' ? 1 : 2 })
    const fromEnv = parseCommandLine([], { LIFELINE_RELAY_CONFIG: 'env.json' }, read)
    expect(fromEnv.command === 'run' && fromEnv.config.port).toBe(1)
    const fromFlag = parseCommandLine(['--config=flag.json'], { LIFELINE_RELAY_CONFIG: 'env.json' }, read)
    expect(fromFlag.command === 'run' && fromFlag.config.port).toBe(2)
  })

  it('is not read for --help', () => {
    expect(parseCommandLine(['--config', 'x.json', '--help'], {}, () => { throw new Error('read') })).toEqual({ command: 'help' })
  })

  it('names an unknown key, and lists the known ones', () => {
    expect(errorWith({ prot: 4001 })).toMatch(/^config file \/etc\/lifeline\/relay\.json: unknown key "prot"; the keys are host, port, keyFile, /)
    // flag spellings are not keys
    expect(errorWith({ 'max-circuits': 8 })).toMatch(/unknown key "max-circuits"/)
  })

  it.each([
    [{ port: '4001' }, `${FILE}: "port" must be an integer, got the string "4001"`],
    [{ port: 40.5 }, `${FILE}: "port" must be an integer, got the number 40.5`],
    [{ host: 127 }, `${FILE}: "host" must be a string, got the number 127`],
    [{ announce: '/dns4/a.example.com/tcp/443/wss' }, `${FILE}: "announce" must be an array of strings, got the string "/dns4/a.example.com/tcp/443/wss"`],
    [{ announce: [1] }, `${FILE}: "announce" must be an array of strings, got an array`],
    [{ maxCircuitBytes: true }, `${FILE}: "maxCircuitBytes" must be an integer, or a string of digits, got a boolean`],
    [{ metrics: null }, `${FILE}: "metrics" must be a string, got null`],
    [{ idleTimeoutMs: { ms: 1 } }, `${FILE}: "idleTimeoutMs" must be an integer, got an object`]
  ])('names the key and the expected type for %j', (json, message) => {
    expect(errorWith(json)).toBe(message)
  })

  it('checks values as their flags do, naming the key', () => {
    expect(errorWith({ port: 70000 })).toBe(`${FILE}: "port" must be an integer from 0 to 65535, got "70000"`)
    expect(errorWith({ webrtcDirectPort: 70000 })).toBe(`${FILE}: "webrtcDirectPort" must be an integer from 0 to 65535, got "70000"`)
    expect(errorWith({ webrtcDirectPort: '443' })).toBe(`${FILE}: "webrtcDirectPort" must be an integer, got the string "443"`)
    expect(errorWith({ metrics: 'localhost:9464' })).toMatch(/^\/etc\/lifeline\/relay\.json: "metrics" must be HOST:PORT/)
  })

  it('refuses tlsCert without tlsKey, unless a flag supplies the key', () => {
    expect(errorWith({ tlsCert: '/etc/letsencrypt/live/relay.example.com/fullchain.pem' })).toMatch(/needs --tls-key \(tlsKey\) too/)
    expect(configWith({ tlsCert: 'fullchain.pem' }, ['--tls-key', 'privkey.pem']).tlsKey).toBe('privkey.pem')
  })

  it('rejects a file that is not a JSON object', () => {
    expect(errorWith('{"port": 4001,}')).toMatch(/^config file \/etc\/lifeline\/relay\.json is not valid JSON: /)
    expect(errorWith([])).toBe(`config file ${FILE} must hold a JSON object of options, such as {"port": 4001}`)
  })

  it('says which file it could not read', () => {
    expect(() => parseCommandLine(['--config', '/nonexistent/relay.json'])).toThrow(/^cannot read the config file \/nonexistent\/relay\.json: ENOENT/)
  })
})
