/**
 * What being idle costs the relay (see IDLE_WINDOW_MS). Browser A and B reserve on relay 1
 * and do nothing: the runner counts relay 1's bytes (both directions, every packet) for a
 * window, which gives the cost of a reserved peer. Then A links to B, the link goes
 * direct and carries one message, both wait, and the runner counts again: what the
 * window costs beyond the first is the idle link (its relayed routes kept warm, the
 * pings on them, the relay's own). Figures in bytes per second.
 *
 * - `lifeline-idle`: two Lifeline peers, `direct: true`.
 * - `libp2p-idle`: plain js-libp2p in its documented browser setup, a WebRTC connection
 *   dialled through the relay and one stream on it.
 */
import type { Libp2p } from 'libp2p'
import { multiaddr } from '@multiformats/multiaddr'
import { IDLE_SETTLE_MS, IDLE_WINDOW_MS } from '../shared.js'
import type { ResultReport } from '../shared.js'
import { requestFault, sleep } from './exchange.js'
import { PROTOCOL, startNode } from './libp2p.js'
import { expectPath, incomingLink, startPeer } from './lifeline.js'
import type { PageContext } from './scenario.js'

/** Relay 1's bytes in one window after settling, per second. */
async function relayBytesPerSecond ({ params, mailbox }: PageContext, key: string): Promise<number> {
  await sleep(IDLE_SETTLE_MS)
  const done = await requestFault(params.session, mailbox, 'count-relay-bytes', { windowMs: IDLE_WINDOW_MS, key })
  if (done.bytes === undefined) {
    throw new Error(`the runner counted no bytes: ${JSON.stringify(done)}`)
  }
  return done.bytes / ((done.at - done.startedAt) / 1000)
}

function result (scenario: ResultReport['scenario'], reserved: number, linked: number): ResultReport {
  return {
    scenario,
    metrics: {
      // two peers held reservations in the first window
      idleReservedPeerBytesPerSec: reserved / 2,
      idleLinkBytesPerSec: linked - reserved,
      idleReservedBytesPerSec: reserved,
      idleLinkedBytesPerSec: linked
    },
    samples: {}
  }
}

async function lifelineA (context: PageContext): Promise<ResultReport> {
  const { params, mailbox } = context
  const peer = await startPeer([params.relay], true)
  const remote = await mailbox.get('b-id')
  await mailbox.get('b-online')
  const reserved = await relayBytesPerSecond(context, 'reserved')
  const link = await peer.connect(remote)
  await link.send('hello')
  await link.waitForPath('direct')
  await mailbox.get('b-direct')
  const linked = await relayBytesPerSecond(context, 'linked')
  expectPath(link, 'direct', 'after the idle window')
  return result(params.scenario, reserved, linked)
}

async function lifelineB ({ params, mailbox }: PageContext): Promise<void> {
  const peer = await startPeer([params.relay], true)
  const linked = incomingLink(peer)
  await mailbox.put('b-id', peer.peerId)
  await mailbox.put('b-online', 1)
  const { link } = await linked
  await link.waitForPath('direct')
  await mailbox.put('b-direct', 1)
  await mailbox.get('done')
}

async function libp2pA (context: PageContext): Promise<ResultReport> {
  const { params, mailbox } = context
  const node = await startNode(params.relay)
  const remote = await mailbox.get('b-id')
  const reserved = await relayBytesPerSecond(context, 'reserved')
  const connection = await node.dial(multiaddr(`${params.relay}/p2p-circuit/webrtc/p2p/${remote}`))
  if (!connection.remoteAddr.toString().includes('/webrtc')) {
    throw new Error(`connected over ${connection.remoteAddr.toString()}, not WebRTC`)
  }
  const stream = await connection.newStream(PROTOCOL)
  stream.send(new TextEncoder().encode('hello'))
  await mailbox.get('b-got')
  const linked = await relayBytesPerSecond(context, 'linked')
  if (connection.status !== 'open') {
    throw new Error('the WebRTC connection closed during the idle window')
  }
  return result(params.scenario, reserved, linked)
}

async function libp2pB ({ params, mailbox }: PageContext): Promise<void> {
  const node: Libp2p = await startNode(params.relay)
  await node.handle(PROTOCOL, (stream) => {
    stream.addEventListener('message', () => { void mailbox.put('b-got', 1) }, { once: true })
  }, { runOnLimitedConnection: true })
  await mailbox.put('b-id', node.peerId.toString())
  await mailbox.get('done')
}

export const lifelineIdle = { runA: lifelineA, runB: lifelineB }
export const libp2pIdle = { runA: libp2pA, runB: libp2pB }
