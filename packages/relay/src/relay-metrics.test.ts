/**
 * A relay started with `metrics` serves what it does at /metrics and whether it
 * serves at /healthz, on its own port: checked with real libp2p peers reserving and
 * talking through a circuit.
 */
import './node-compat.js'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { connect } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Relay } from './index.js'
import { echoThroughRelay, startDialer, startEchoPeer, waitForReservation } from '../test/hostile/clients.js'
import { RelayTestbed } from '../test/testbed.js'

const bed = new RelayTestbed()

beforeEach(async () => { await bed.setUp('lifeline-relay-metrics-') })
afterEach(async () => { await bed.tearDown() })

async function startRelay (): Promise<{ relay: Relay, relayAddr: string, metricsUrl: string }> {
  const relay = await bed.startRelay({ metrics: { host: '127.0.0.1', port: 0 } })
  const [relayAddr] = relay.multiaddrs
  if (relayAddr === undefined || relay.metricsUrl === undefined) {
    throw new Error('relay reported no address or no metrics URL')
  }
  return { relay, relayAddr, metricsUrl: relay.metricsUrl }
}

async function scrape (metricsUrl: string): Promise<string> {
  const res = await fetch(`${metricsUrl}/metrics`)
  expect(res.status).toBe(200)
  return res.text()
}

/** One series' value, or undefined when absent. */
async function valueOf (metricsUrl: string, series: string): Promise<number | undefined> {
  const line = (await scrape(metricsUrl)).split('\n').find(l => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

/** Sends one HTTP/1.1 request on a raw socket and returns the status of each answer. */
function rawHttp (url: string): { send(text: string): void, statuses(count: number): Promise<number[]>, end(): void } {
  const { hostname, port } = new URL(url)
  const socket = connect(Number(port), hostname)
  let received = ''
  socket.setEncoding('utf8').on('data', (data: string) => { received += data })
  return {
    send: text => { socket.write(text) },
    statuses: async count => {
      const found = (): number[] => [...received.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map(m => Number(m[1]))
      await expect.poll(() => found().length).toBeGreaterThanOrEqual(count)
      return found()
    },
    end: () => { socket.destroy() }
  }
}

describe('relay metrics', () => {
  it('counts reservations, circuits, bytes, refusals and connections as peers use the relay', async () => {
    const { relayAddr, metricsUrl } = await startRelay()
    expect(await valueOf(metricsUrl, 'libp2p_relaysvc_status')).toBe(1)
    expect(await valueOf(metricsUrl, 'lifeline_relay_reservations')).toBe(0)
    expect(await valueOf(metricsUrl, 'libp2p_relaysvc_reservations_total{type="opened"}')).toBe(0)

    const a = await startEchoPeer(relayAddr)
    const b = await startEchoPeer(relayAddr)
    bed.peers.push(a, b)
    await waitForReservation(a, AbortSignal.timeout(20_000))
    await waitForReservation(b, AbortSignal.timeout(20_000))
    expect(await valueOf(metricsUrl, 'lifeline_relay_reservations')).toBe(2)
    expect(await valueOf(metricsUrl, 'libp2p_relaysvc_reservations_total{type="opened"}')).toBe(2)
    expect(await valueOf(metricsUrl, 'libp2p_relaysvc_reservation_request_response_status_total{status="ok"}')).toBe(2)
    expect(await valueOf(metricsUrl, 'lifeline_relay_connections{transport="ws"}')).toBe(2)
    expect(await valueOf(metricsUrl, 'lifeline_relay_connections_accepted_total{transport="ws"}')).toBe(2)

    await echoThroughRelay(a, b, relayAddr, AbortSignal.timeout(20_000))
    expect(await valueOf(metricsUrl, 'libp2p_relaysvc_connections_total{type="opened"}')).toBe(1)
    expect(await valueOf(metricsUrl, 'libp2p_relaysvc_connection_request_response_status_total{status="ok"}')).toBe(1)
    // 1 KiB each way plus the echo protocol's negotiation
    expect(await valueOf(metricsUrl, 'libp2p_relaysvc_data_transferred_bytes_total')).toBeGreaterThanOrEqual(2048)
    // the circuit is the relayed connection between the two, not the stream on it
    await a.hangUp(b.peerId)
    await expect.poll(async () => valueOf(metricsUrl, 'libp2p_relaysvc_connections_total{type="closed"}')).toBe(1)
    expect(await valueOf(metricsUrl, 'libp2p_relaysvc_connection_duration_seconds_count')).toBe(1)
    expect(await valueOf(metricsUrl, 'lifeline_relay_circuits')).toBe(0)

    // a circuit to a peer that holds no reservation is refused with a reason
    const dialer = await startDialer()
    bed.peers.push(dialer)
    const nobody = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    await expect(dialer.dial(multiaddr(`${relayAddr}/p2p-circuit/p2p/${nobody.toString()}`))).rejects.toBeTruthy()
    await expect.poll(async () => valueOf(metricsUrl, 'libp2p_relaysvc_connection_rejections_total{reason="no-reservation"}')).toBe(1)
    expect(await valueOf(metricsUrl, 'libp2p_relaysvc_connection_request_response_status_total{status="rejected"}')).toBe(1)

    // prom-client's process metrics come along
    expect(await scrape(metricsUrl)).toContain('process_resident_memory_bytes')
  })

  it('answers /healthz 200 while serving and 503 as soon as stop begins', async () => {
    const { relay, metricsUrl } = await startRelay()
    expect((await fetch(`${metricsUrl}/healthz`)).status).toBe(200)

    // One write carries a whole request and the start of a second, so the second is
    // in flight (and holds the metrics server open) before stop() is called; it is
    // answered with whatever the relay's state is once it is complete.
    const http = rawHttp(metricsUrl)
    http.send('GET /healthz HTTP/1.1\r\nHost: relay\r\n\r\nGET /healthz HTTP/1.1\r\n')
    expect(await http.statuses(1)).toEqual([200])
    const stopped = relay.stop()
    bed.relays.splice(bed.relays.indexOf(relay), 1)
    http.send('Host: relay\r\n\r\n')
    expect(await http.statuses(2)).toEqual([200, 503])
    http.end()
    await stopped
    await expect(fetch(`${metricsUrl}/healthz`)).rejects.toThrow()
  })

  it('serves nothing but WebSockets on the public port', async () => {
    const { relayAddr } = await startRelay()
    const port = /\/tcp\/(\d+)\//.exec(relayAddr)?.[1] ?? ''
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(426)
  })
})
