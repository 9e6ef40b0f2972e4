/**
 * The relay serving WebSockets over TLS itself: a libp2p client that trusts a test CA
 * reserves over `/tls/ws`, certificates are replaced under a live connection, and a
 * socket that never starts TLS is closed by the TLS deadline.
 */
import './node-compat.js'
import { readFile, rename, writeFile } from 'node:fs/promises'
import { connect as netConnect } from 'node:net'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import { multiaddr } from '@multiformats/multiaddr'
import { WebSocket as WsWebSocket, type ClientOptions } from 'ws'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { isRelayError, type CertificateInfo, type Relay, type RelayConfig } from './index.js'
import { countByTransport } from './relay.js'
import { ECHO, startDialer, startEchoPeer } from '../test/hostile/clients.js'
import { createTestCa, type TestCa } from '../test/tls-ca.js'
import { RelayTestbed } from '../test/testbed.js'

/** Short enough to see, long enough for a loopback handshake on a busy machine. */
const TEST_TLS_HANDSHAKE_TIMEOUT_MS = 1_000

let ca: Buffer
let testCa: TestCa
const bed = new RelayTestbed()
const originalWebSocket = globalThis.WebSocket

function issue (name: string, serial: number, days: number): { cert: string, key: string } {
  return testCa.issue(name, serial, days)
}

/** Replaces `target` by rename, as certbot does, so a watch on the old inode would miss it. */
async function replaceFile (target: string, source: string | Buffer): Promise<void> {
  const bytes = typeof source === 'string' ? await readFile(source) : source
  await writeFile(`${target}.new`, bytes)
  await rename(`${target}.new`, target)
}

/** The serial of the certificate a new TLS connection is shown. */
async function servedSerial (port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      const serial = socket.getPeerX509Certificate()?.serialNumber
      socket.destroy()
      if (serial === undefined) {
        reject(new Error('no peer certificate'))
      } else {
        resolve(serial)
      }
    })
    socket.once('error', reject)
  })
}

function portOf (addr: string): number {
  return Number(/\/tcp\/(\d+)\//.exec(addr)?.[1])
}

async function startRelay (config: Partial<RelayConfig>): Promise<Relay> {
  return bed.startRelay(config)
}

beforeAll(async () => {
  await bed.setUp('lifeline-relay-tls-')
  testCa = createTestCa(bed.dir)
  ca = testCa.ca

  // @libp2p/websockets dials with the global WebSocket and takes no TLS options, and
  // NODE_EXTRA_CA_CERTS is read only at process start: the test's peers get a
  // WebSocket that trusts the test CA instead
  class TrustingWebSocket extends WsWebSocket {
    constructor (url: string | URL, protocols?: string | string[]) {
      const options: ClientOptions = { ca }
      super(url, protocols, options)
    }

    override close (code?: number, reason?: string | Buffer): void {
      // a browser WebSocket accepts close(1006) from the libp2p transport's reset; `ws` throws
      if (code === 1006) {
        this.terminate()
        return
      }
      super.close(code, reason)
    }
  }
  Object.defineProperty(globalThis, 'WebSocket', { value: TrustingWebSocket, configurable: true, writable: true })
})

afterAll(async () => {
  Object.defineProperty(globalThis, 'WebSocket', { value: originalWebSocket, configurable: true, writable: true })
  await bed.removeDir()
})

afterEach(async () => { await bed.stopAll() })

describe('TLS served by the relay', () => {
  it('serves a reservation over /tls/ws and a replaced certificate to new connections while the first stays', async () => {
    const first = issue('first', 1001, 10)
    const second = issue('second', 2002, 20)
    const certFile = join(bed.dir, 'fullchain.pem')
    const keyFile = join(bed.dir, 'privkey.pem')
    await replaceFile(certFile, first.cert)
    await replaceFile(keyFile, first.key)

    const relay = await startRelay({ tlsCert: certFile, tlsKey: keyFile, tlsHandshakeTimeoutMs: TEST_TLS_HANDSHAKE_TIMEOUT_MS })
    const [addr] = relay.multiaddrs
    expect(addr).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/tls\/ws\/p2p\/\w+$/)
    if (addr === undefined) {
      throw new Error('relay reported no address')
    }
    const port = portOf(addr)
    expect(await servedSerial(port)).toBe('03E9')
    expect(relay.tlsCertificate()?.subject).toContain('CN=localhost')

    const listener = await startEchoPeer(addr)
    bed.peers.push(listener)
    await expect.poll(() => listener.getMultiaddrs().some(ma => ma.toString().includes('/p2p-circuit'))).toBe(true)
    const [held] = listener.getConnections()
    expect(held?.remoteAddr.toString()).toContain('/tls/ws')

    const reloaded = new Promise<CertificateInfo>(resolve => {
      relay.events.addEventListener('tls:reloaded', event => { resolve(event.detail) }, { once: true })
    })
    // the certificate first, then its key, a moment apart: the watch waits for both
    await replaceFile(certFile, second.cert)
    await replaceFile(keyFile, second.key)
    const info = await reloaded
    expect(info.serialNumber).toBe('07D2')
    expect(info.validTo.getTime() - info.validFrom.getTime()).toBeGreaterThan(15 * 24 * 3600 * 1000)
    expect(await servedSerial(port)).toBe('07D2')

    // the first connection was not dropped, and still carries a circuit
    expect(held?.status).toBe('open')
    expect(listener.getConnections().map(c => c.id)).toContain(held?.id)
    const dialer = await startDialer()
    bed.peers.push(dialer)
    const stream = await dialer.dialProtocol(multiaddr(`${addr}/p2p-circuit/p2p/${listener.peerId.toString()}`), ECHO, { runOnLimitedConnection: true })
    const echoed = (async () => {
      for await (const chunk of stream) {
        return chunk.subarray()
      }
    })()
    stream.send(new TextEncoder().encode('still here'))
    expect(new TextDecoder().decode(await echoed)).toBe('still here')
    await stream.close()
  })

  it('keeps serving the old certificate when the new files do not load, and reloads good ones on request', async () => {
    const first = issue('keep', 3003, 10)
    const other = issue('other', 4004, 10)
    const certFile = join(bed.dir, 'keep-fullchain.pem')
    const keyFile = join(bed.dir, 'keep-privkey.pem')
    await replaceFile(certFile, first.cert)
    await replaceFile(keyFile, first.key)
    const relay = await startRelay({ tlsCert: certFile, tlsKey: keyFile })
    const port = portOf(relay.multiaddrs[0] ?? '')
    const failures: string[] = []
    relay.events.addEventListener('tls:reload-failed', event => { failures.push(event.detail.error.message) })

    // a key of another certificate (what a half-finished renewal looks like)
    await replaceFile(certFile, other.cert)
    await expect(relay.reloadTls()).rejects.toSatisfy(err => isRelayError(err, 'TLS_CERTIFICATE_INVALID'))
    expect(failures.at(-1)).toMatch(/is not the private key of the certificate/)
    expect(await servedSerial(port)).toBe('0BBB')

    // not PEM at all
    await replaceFile(certFile, Buffer.from('-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n'))
    await expect(relay.reloadTls()).rejects.toSatisfy(err => isRelayError(err, 'TLS_CERTIFICATE_INVALID'))
    expect(await servedSerial(port)).toBe('0BBB')
    expect(relay.tlsCertificate()?.serialNumber).toBe('0BBB')

    // the SIGHUP path: both files good again
    await replaceFile(certFile, other.cert)
    await replaceFile(keyFile, other.key)
    expect((await relay.reloadTls()).serialNumber).toBe('0FA4')
    expect(await servedSerial(port)).toBe('0FA4')
  })

  it('closes a socket that opens TCP and never starts TLS at the TLS deadline', async () => {
    const { cert, key } = issue('silent', 5005, 10)
    const relay = await startRelay({
      tlsCert: cert,
      tlsKey: key,
      tlsHandshakeTimeoutMs: TEST_TLS_HANDSHAKE_TIMEOUT_MS,
      // far beyond the test's own timeout: only the TLS deadline can close it
      upgradeTimeoutMs: 120_000
    })
    const socket = netConnect({ host: '127.0.0.1', port: portOf(relay.multiaddrs[0] ?? '') })
    socket.on('error', () => {})
    await new Promise<void>(resolve => { socket.once('close', () => { resolve() }) })
    expect(relay.stats().counters['tls-handshake-timeout']).toBe(1)
    // its pending slot is given back once the server side has closed too
    await expect.poll(() => relay.stats().pending).toBe(0)
  })

  it('closes a client that speaks plain HTTP to the TLS port, and counts it', async () => {
    const { cert, key } = issue('plain', 7007, 10)
    const relay = await startRelay({ tlsCert: cert, tlsKey: key })
    const socket = netConnect({ host: '127.0.0.1', port: portOf(relay.multiaddrs[0] ?? '') }, () => {
      socket.write('GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\r\n')
    })
    socket.on('error', () => {})
    socket.resume()
    await new Promise<void>(resolve => { socket.once('close', () => { resolve() }) })
    await expect.poll(() => relay.stats().counters['tls-error']).toBe(1)
    expect(relay.stats().counters['tls-handshake-timeout']).toBeUndefined()
    await expect.poll(() => relay.stats().pending).toBe(0)
  })

  it('counts connections over its own TLS listener as wss in the metrics', () => {
    expect(countByTransport(['/ip4/203.0.113.1/tcp/50000/tls/ws', '/ip4/203.0.113.1/tcp/50001/ws', '/ip4/203.0.113.1/tcp/50002/wss']))
      .toEqual({ wss: 2, ws: 1 })
  })

  it('refuses a certificate without its key before it listens', async () => {
    const { cert } = issue('lonely', 6006, 10)
    await expect(startRelay({ tlsCert: cert })).rejects.toSatisfy(err => isRelayError(err, 'CONFIG_INVALID'))
    await expect(startRelay({ tlsCert: cert, tlsKey: join(bed.dir, 'missing.key') })).rejects.toSatisfy(err => isRelayError(err, 'TLS_CERTIFICATE_INVALID'))
  })
})
