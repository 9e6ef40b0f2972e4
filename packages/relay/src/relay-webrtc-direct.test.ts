/**
 * The relay's WebRTC-Direct listener, with real Node peers (node-datachannel) on
 * loopback: reservations and circuits over it, a certhash that survives restarts,
 * announced addresses, and the metrics that count it.
 */
import './node-compat.js'
import { multiaddr } from '@multiformats/multiaddr'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isRelayError, type Relay } from './index.js'
import { echoThroughRelay, startEchoPeer, waitForReservation } from '../test/hostile/clients.js'
import { RelayTestbed } from '../test/testbed.js'
import { startWebRtcDirectPeer } from '../test/webrtc-direct-clients.js'

const bed = new RelayTestbed()

beforeEach(async () => { await bed.setUp('lifeline-relay-webrtc-') })
afterEach(async () => { await bed.tearDown() })

function addressOf (relay: Relay, transport: 'ws' | 'webrtc-direct'): string {
  const addr = relay.multiaddrs.find(ma => ma.includes(`/${transport}/`))
  if (addr === undefined) {
    throw new Error(`relay reported no ${transport} address: ${relay.multiaddrs.join(' ')}`)
  }
  return addr
}

async function valueOf (metricsUrl: string, series: string): Promise<number | undefined> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text()
  const line = text.split('\n').find(l => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe('WebRTC-Direct listener', () => {
  it('is off unless asked for', async () => {
    const relay = await bed.startRelay()
    expect(relay.webrtcDirect).toBeUndefined()
    expect(relay.multiaddrs.some(ma => ma.includes('/udp/'))).toBe(false)
  })

  it('lists the full /udp/P/webrtc-direct/certhash/H/p2p/ID address with the real port', async () => {
    const relay = await bed.startRelay({ webrtcDirectPort: 0 })
    const addr = addressOf(relay, 'webrtc-direct')
    const certhash = relay.webrtcDirect?.certhash ?? ''
    expect(addr).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/udp/[1-9]\\d*/webrtc-direct/certhash/${certhash}/p2p/${relay.peerId}$`))
    expect(certhash).toMatch(/^u[A-Za-z0-9_-]+$/)
    // the WebSocket address is still there
    addressOf(relay, 'ws')
  })

  it('lets a WebRTC-Direct peer reserve a slot and carries an echo between it and a WebSocket peer', async () => {
    const relay = await bed.startRelay({ webrtcDirectPort: 0 })
    const rtcPeer = await startWebRtcDirectPeer(addressOf(relay, 'webrtc-direct'))
    const wsPeer = await startEchoPeer(addressOf(relay, 'ws'))
    bed.peers.push(rtcPeer, wsPeer)
    await waitForReservation(rtcPeer, AbortSignal.timeout(20_000))
    await waitForReservation(wsPeer, AbortSignal.timeout(20_000))
    expect(rtcPeer.getConnections()[0]?.remoteAddr.toString()).toContain('/webrtc-direct/')
    expect(relay.stats().reservations).toBe(2)

    // both ways: the WebRTC-Direct peer dials the WebSocket one, and the reverse
    await echoThroughRelay(rtcPeer, wsPeer, addressOf(relay, 'webrtc-direct'), AbortSignal.timeout(20_000))
    expect(relay.stats().counters['circuits-opened']).toBe(1)
    await rtcPeer.hangUp(wsPeer.peerId)
    await expect.poll(() => wsPeer.getConnections(rtcPeer.peerId).length).toBe(0)
    await echoThroughRelay(wsPeer, rtcPeer, addressOf(relay, 'ws'), AbortSignal.timeout(20_000))
    expect(relay.stats().counters['circuits-opened']).toBe(2)
    expect(relay.stats().counters['connections-accepted-webrtc-direct']).toBe(1)
  })

  it('keeps its certificate beside the key file (mode 0600), so a restart keeps the certhash and address', async () => {
    const first = await bed.startRelay({ webrtcDirectPort: 0 })
    const info = first.webrtcDirect
    expect(info?.created).toBe(true)
    expect(info?.certificateFile).toBe(join(bed.dir, 'relay.key.webrtc-direct.pem'))
    expect((await stat(join(bed.dir, 'relay.key.webrtc-direct.pem'))).mode & 0o777).toBe(0o600)
    const addr = addressOf(first, 'webrtc-direct')
    await bed.stopAll()

    // a new port: node-datachannel may hold the old UDP port a while after an
    // in-process stop (a restarted process gets it back at once)
    const second = await bed.startRelay({ webrtcDirectPort: 0 })
    expect(second.webrtcDirect?.created).toBe(false)
    expect(second.webrtcDirect?.certhash).toBe(info?.certhash)
    const withoutPort = (ma: string): string => ma.replace(/\/udp\/\d+\//, '/udp/P/')
    expect(withoutPort(addressOf(second, 'webrtc-direct'))).toBe(withoutPort(addr))
    // and a client that kept the certhash still gets in
    const peer = await startWebRtcDirectPeer()
    bed.peers.push(peer)
    await peer.dial(multiaddr(addressOf(second, 'webrtc-direct')), { signal: AbortSignal.timeout(20_000) })
  })

  it('refuses to start with a corrupt certificate file, and leaves it untouched', async () => {
    const file = join(bed.dir, 'relay.key.webrtc-direct.pem')
    await writeFile(file, '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n')
    const err: unknown = await bed.startRelay({ webrtcDirectPort: 0 }).then(() => undefined, (e: unknown) => e)
    expect(isRelayError(err, 'WEBRTC_CERTIFICATE_INVALID')).toBe(true)
    expect(String(err)).toContain(file)
    expect(await readFile(file, 'utf8')).toContain('bm90IGEga2V5')

  })

  it('refuses a certificate file whose certificate belongs to another key', async () => {
    const pem = (name: string): string => join(bed.dir, `${name}.key.webrtc-direct.pem`)
    await bed.startRelay({ webrtcDirectPort: 0, keyFile: join(bed.dir, 'a.key') })
    await bed.startRelay({ webrtcDirectPort: 0, keyFile: join(bed.dir, 'b.key') })
    await bed.stopAll()
    const keyOfA = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/.exec(await readFile(pem('a'), 'utf8'))?.[0]
    const certOfB = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(await readFile(pem('b'), 'utf8'))?.[0]
    expect(keyOfA).toBeDefined()
    expect(certOfB).toBeDefined()
    await writeFile(pem('c'), `${keyOfA ?? ''}\n${certOfB ?? ''}\n`)
    const err: unknown = await bed.startRelay({ webrtcDirectPort: 0, keyFile: join(bed.dir, 'c.key') }).then(() => undefined, (e: unknown) => e)
    expect(isRelayError(err, 'WEBRTC_CERTIFICATE_INVALID')).toBe(true)
    expect(String(err)).toContain('another key')
  })

  it('adds its certhash to an announced /webrtc-direct address that has none', async () => {
    const relay = await bed.startRelay({
      webrtcDirectPort: 0,
      announce: ['/dns4/relay.example.com/udp/4001/webrtc-direct', '/dns4/relay.example.com/tcp/443/wss']
    })
    const certhash = relay.webrtcDirect?.certhash ?? ''
    expect(relay.multiaddrs).toContain(`/dns4/relay.example.com/udp/4001/webrtc-direct/certhash/${certhash}/p2p/${relay.peerId}`)
    expect(relay.multiaddrs).toContain(`/dns4/relay.example.com/tcp/443/wss/p2p/${relay.peerId}`)
  })

  it('counts WebRTC-Direct connections under their own transport in the metrics', async () => {
    const relay = await bed.startRelay({ webrtcDirectPort: 0, metrics: { host: '127.0.0.1', port: 0 } })
    const metricsUrl = relay.metricsUrl ?? ''
    const rtcPeer = await startWebRtcDirectPeer(addressOf(relay, 'webrtc-direct'))
    const wsPeer = await startEchoPeer(addressOf(relay, 'ws'))
    bed.peers.push(rtcPeer, wsPeer)
    await waitForReservation(rtcPeer, AbortSignal.timeout(20_000))
    await waitForReservation(wsPeer, AbortSignal.timeout(20_000))

    expect(await valueOf(metricsUrl, 'lifeline_relay_connections{transport="webrtc-direct"}')).toBe(1)
    expect(await valueOf(metricsUrl, 'lifeline_relay_connections{transport="ws"}')).toBe(1)
    expect(await valueOf(metricsUrl, 'lifeline_relay_connections_accepted_total{transport="webrtc-direct"}')).toBe(1)
    expect(await valueOf(metricsUrl, 'lifeline_relay_connections_accepted_total{transport="ws"}')).toBe(1)
    expect(await valueOf(metricsUrl, 'lifeline_relay_pending_connections')).toBe(0)

    await rtcPeer.stop()
    bed.peers.splice(bed.peers.indexOf(rtcPeer), 1)
    await expect.poll(async () => valueOf(metricsUrl, 'lifeline_relay_connections{transport="webrtc-direct"}')).toBe(0)
    // the admission forgot it too
    await expect.poll(() => relay.stats().connections).toBe(1)
  })
})
