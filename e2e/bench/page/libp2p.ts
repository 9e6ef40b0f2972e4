/**
 * Baseline: plain js-libp2p in the page, configured as its browser-to-browser docs
 * show. Scenario `libp2p`: dial `<relay>/p2p-circuit/webrtc/p2p/<B>` (a WebRTC
 * connection signalled over the relay), then a stream of a test protocol on it.
 * Scenario `libp2p-relayed`: dial `<relay>/p2p-circuit/p2p/<B>` and stay relayed.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { webRTC } from '@libp2p/webrtc'
import { webSockets } from '@libp2p/websockets'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import type { Libp2p } from 'libp2p'
import type { ResultReport } from '../shared.js'
import { now } from './exchange.js'
import { ByteReader, answer, firstMessage, measureCipher, measureRtt, measureThroughput, median } from './measure.js'
import type { Pipe } from './measure.js'
import type { PageContext } from './scenario.js'

export const PROTOCOL = '/lifeline-bench/1.0.0'

export async function startNode (relay: string): Promise<Libp2p> {
  const node = await createLibp2p({
    addresses: { listen: [`${relay}/p2p-circuit`, '/webrtc'] },
    transports: [
      webSockets(),
      webRTC({ rtcConfiguration: { iceServers: [] } }),
      circuitRelayTransport()
    ],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // the browser's default gater refuses ws:// and private addresses
    connectionGater: { denyDialMultiaddr: () => false },
    services: { identify: identify(), ping: ping() }
  })
  // start() waits for the reservation on a relay named in `listen`; the circuit
  // address is what others dial
  while (!node.getMultiaddrs().some((address) => address.toString().includes('/p2p-circuit'))) {
    await new Promise((resolve) => { node.addEventListener('self:peer:update', resolve, { once: true }) })
  }
  return node
}

export type Stream = Parameters<Parameters<Libp2p['handle']>[1]>[0]

export function streamPipe (stream: Stream): Pipe {
  const reader = new ByteReader()
  stream.addEventListener('message', (event) => {
    reader.push(event.data instanceof Uint8Array ? event.data : event.data.subarray())
  })
  stream.addEventListener('close', () => { reader.fail(new Error('the stream closed')) })
  return {
    reader,
    send: async (data) => {
      if (!stream.send(data)) {
        await stream.onDrain()
      }
    }
  }
}

async function runA ({ params, mailbox }: PageContext): Promise<ResultReport> {
  const direct = params.scenario === 'libp2p'
  const started = now()
  const node = await startNode(params.relay)
  const reservationMs = now() - started
  const remote = await mailbox.get('b-id')

  const dialing = now()
  const address = multiaddr(`${params.relay}/p2p-circuit${direct ? '/webrtc' : ''}/p2p/${remote}`)
  // dialProtocol() in two steps, to time the connection on its own
  const connection = await node.dial(address)
  const connectedMs = now() - dialing
  const isWebRTC = connection.remoteAddr.toString().includes('/webrtc')
  if (isWebRTC !== direct) {
    throw new Error(`dialled ${address.toString()}, connected over ${connection.remoteAddr.toString()}`)
  }
  const stream = await connection.newStream(PROTOCOL, { runOnLimitedConnection: true })
  const pipe = streamPipe(stream)
  await pipe.send(firstMessage())
  const firstMessageMs = await mailbox.getNumber('first-at') - dialing

  const metrics: ResultReport['metrics'] = { reservationMs, firstMessageMs }
  if (direct) {
    metrics.directMs = connectedMs
  }
  const rtt = await measureRtt(pipe)
  metrics.rttMs = median(rtt)
  metrics.throughputMBps = await measureThroughput(pipe, mailbox)
  if (!direct) {
    // after the transfer, with both pages quiet: the relayed figure's ceiling
    Object.assign(metrics, measureCipher())
  }
  return { scenario: params.scenario, metrics, samples: { rttMs: rtt } }
}

async function runB ({ params, mailbox }: PageContext): Promise<void> {
  const node = await startNode(params.relay)
  let onStream: ((stream: Stream) => void) | undefined
  // the pipe is made in the handler: the first message may follow in the next task
  const incoming = new Promise<Pipe>((resolve) => { onStream = (stream) => { resolve(streamPipe(stream)) } })
  await node.handle(PROTOCOL, (stream) => { onStream?.(stream) }, { runOnLimitedConnection: true })
  await mailbox.put('b-id', node.peerId.toString())
  await answer(await incoming, mailbox)
}

export const libp2p = { runA, runB }
