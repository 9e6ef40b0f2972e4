import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { formatMessage, relayLogger, type LogFormat } from './logger.js'

const TIME = new Date('2025-01-02T03:04:05.678Z')

function capture (format: LogFormat, enabled: (namespace: string) => boolean = () => true): { lines: string[], log: ReturnType<ReturnType<typeof relayLogger>['forComponent']> } {
  const lines: string[] = []
  const logger = relayLogger({ format, write: line => { lines.push(line) }, enabled, now: () => TIME })
  return { lines, log: logger.forComponent('lifeline:relay') }
}

describe('relay logger', () => {
  it('writes one JSON object per line: time, level, namespace, message, fields', async () => {
    const { lines, log } = capture('json')
    const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    log('refused a reservation for %p: %s', peer, 'reservations-per-source', { source: '203.0.113.7', held: 128 })
    log.error('cannot %s', 'listen')
    log.trace('circuit closed')

    expect(lines).toHaveLength(3)
    for (const line of lines) {
      expect(line).not.toContain('\n')
    }
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      time: '2025-01-02T03:04:05.678Z',
      level: 'info',
      namespace: 'lifeline:relay',
      message: `refused a reservation for ${peer.toString()}: reservations-per-source`,
      fields: { source: '203.0.113.7', held: 128 }
    })
    expect(JSON.parse(lines[1] ?? '')).toMatchObject({ level: 'error', namespace: 'lifeline:relay:error', message: 'cannot listen', fields: {} })
    expect(JSON.parse(lines[2] ?? '')).toMatchObject({ level: 'trace', namespace: 'lifeline:relay:trace' })
  })

  it('writes text lines with the same parts', () => {
    const { lines, log } = capture('text')
    log('listening on %a', multiaddr('/ip4/127.0.0.1/tcp/4001/ws'), { port: 4001 })
    expect(lines).toEqual(['2025-01-02T03:04:05.678Z info lifeline:relay listening on /ip4/127.0.0.1/tcp/4001/ws {"port":4001}'])
  })

  it('logs only the namespaces DEBUG enables, and scopes below a namespace', () => {
    const { lines, log } = capture('json', namespace => namespace === 'lifeline:relay:listener')
    log('dropped')
    log.newScope('listener')('kept')
    expect(lines.map(line => (JSON.parse(line) as { message: string }).message)).toEqual(['kept'])
    expect(log.enabled).toBe(false)
  })

  it('never prints bytes, a private key, or fields named like secrets', async () => {
    const key = await generateKeyPair('Ed25519')
    const { message, fields } = formatMessage('key %s raw %b obj %o', [key, key.raw, { privateKey: key }, {
      token: 'abc', authorization: 'Bearer abc', nested: { secret: 'x', bytes: new Uint8Array(64) }
    }])
    const hex = Buffer.from(key.raw).toString('hex')
    const b64 = Buffer.from(key.raw).toString('base64')
    expect(message).toBe('key [redacted] raw <64 bytes> obj {"privateKey":"[redacted]"}')
    expect(fields).toEqual({ token: '[redacted]', authorization: '[redacted]', nested: { secret: '[redacted]', bytes: '<64 bytes>' } })
    expect(JSON.stringify({ message, fields })).not.toContain(hex.slice(0, 16))
    expect(JSON.stringify({ message, fields })).not.toContain(b64.slice(0, 16))
  })

  it('replaces tokens and dumped keys in text', () => {
    const jwt = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIxMkQzS29vVyJ9.c2lnbmF0dXJlLWJ5dGVz'
    // what @chainsafe/libp2p-noise prints with DUMP_SESSION_KEYS set
    const noiseDump = `LOCAL_STATIC_PRIVATE_KEY ${'ab'.repeat(32)}`
    expect(formatMessage(`got ${jwt}`, []).message).toBe('got [redacted token]')
    expect(formatMessage('header %s', ['Authorization: Bearer s3cr3t']).message).toBe('header Authorization: Bearer [redacted]')
    expect(formatMessage(noiseDump, []).message).toBe('LOCAL_STATIC_PRIVATE_KEY [redacted]')
    expect(formatMessage(`CIPHER_STATE_1 0 ${'0f'.repeat(32)}`, []).message).toBe('CIPHER_STATE_1 0 [redacted]')
    expect(formatMessage('%s', [new Error(`bad token ${jwt}`)]).message).toBe('Error: bad token [redacted token]')
  })

  it('formats like libp2p\'s loggers: numbers, JSON, extra arguments, %%, missing arguments', () => {
    expect(formatMessage('%d of %i (%f) %j %%', [3.7, 10n, 0.5, { a: 1n }]).message).toBe('3 of 10 (0.5) {"a":"1"} %')
    expect(formatMessage('a', ['b', 2]).message).toBe('a b 2')
    expect(formatMessage('left %s', []).message).toBe('left %s')
  })
})
