/**
 * Lifeline through its public API only. Scenario `lifeline`: reservation, first
 * message (sent right after connect(), so over the relay), time to the direct path,
 * then RTT and throughput on the direct path. Scenario `lifeline-relayed`: both peers
 * have `direct: false`, so the same figures are for the relayed path; the
 * `lifeline-relayed-wss` and `-webrtc-direct` scenarios measure it through the TLS
 * relay over that transport alone.
 */
import { createPeer } from '@lifeline/sdk'
import type { Link, Peer, RelayTransport } from '@lifeline/sdk'
import type { PageParams, ResultReport } from '../shared.js'
import { now } from './exchange.js'
import { ByteReader, answer, firstMessage, measureRtt, measureThroughput, median, receiveFile, sendFile } from './measure.js'
import type { Pipe } from './measure.js'
import { profiled } from './profile.js'
import type { PageContext } from './scenario.js'

export async function startPeer (relays: string[], direct: boolean): Promise<Peer> {
  const peer = await createPeer({ relays, iceServers: [], allowPrivateAddresses: true, direct })
  await peer.start()
  await peer.online()
  return peer
}

export function linkPipe (link: Link): Pipe {
  const reader = new ByteReader()
  link.addEventListener('message', (event) => { reader.push(event.detail) })
  link.addEventListener('close', () => { reader.fail(new Error('the link closed')) })
  return { reader, send: async (data) => { await link.send(data) } }
}

/** The first incoming link, read from its first message on. */
export async function incomingLink (peer: Peer): Promise<{ link: Link, pipe: Pipe }> {
  return new Promise((resolve) => {
    peer.addEventListener('link', (event) => {
      // in the event handler: a message may follow in the next task
      resolve({ link: event.detail, pipe: linkPipe(event.detail) })
    }, { once: true })
  })
}

/** The relay address a Lifeline scenario uses, and the transport it must be held on. */
function relayOf (params: PageParams): { address: string, transport: RelayTransport } {
  switch (params.scenario) {
    case 'lifeline-relayed-wss':
      return { address: params.relayWss, transport: 'wss' }
    case 'lifeline-relayed-webrtc-direct':
      return { address: params.relayWebrtcDirect, transport: 'webrtc-direct' }
    default:
      return { address: params.relay, transport: 'ws' }
  }
}

/** Start on the scenario's relay; a figure must not claim a transport it was not measured over. */
async function startOnRelay (params: PageParams, direct: boolean): Promise<Peer> {
  const relay = relayOf(params)
  const peer = await startPeer([relay.address], direct)
  const held = peer.status().relays.find((r) => r.state === 'reserved')?.transport
  if (held !== relay.transport) {
    throw new Error(`the relay was held over ${held ?? 'nothing'}, not ${relay.transport}`)
  }
  return peer
}

/** The plain direct and relayed scenarios send a 50 MB file after the bulk transfer. */
function sendsFile (params: PageParams): boolean {
  return params.scenario === 'lifeline' || params.scenario === 'lifeline-relayed'
}

/** The path must not change under a figure that claims one. */
export function expectPath (link: Link, path: Link['path'], when: string): void {
  if (link.path !== path) {
    throw new Error(`the link was ${link.path}, not ${path}, ${when}`)
  }
}

async function runA ({ params, mailbox }: PageContext): Promise<ResultReport> {
  const direct = params.scenario === 'lifeline'
  const started = now()
  const peer = await startOnRelay(params, direct)
  const reservationMs = now() - started
  const remote = await mailbox.get('b-id')

  const connecting = now()
  // where connect()'s time goes: its progress events, in ms from the call
  const steps: Record<string, number> = {}
  const { link, pipe, firstMessageMs } = await profiled('connect', async () => {
    const link = await peer.connect(remote, {
      onProgress: (event) => { steps[event.type] ??= now() - connecting }
    })
    steps.returned = now() - connecting
    const pipe = linkPipe(link)
    await pipe.send(firstMessage())
    return { link, pipe, firstMessageMs: await mailbox.getNumber('first-at') - connecting }
  })

  const metrics: ResultReport['metrics'] = { reservationMs, firstMessageMs }
  for (const [step, ms] of Object.entries(steps)) {
    metrics[`step:${step}`] = ms
  }
  metrics['step:link-at-b'] = await mailbox.getNumber('link-at') - connecting
  const path = direct ? 'direct' : 'relayed'
  if (direct) {
    await link.waitForPath('direct')
    metrics.directMs = now() - connecting
    await mailbox.get('b-direct')
  }
  const rtt = await measureRtt(pipe)
  expectPath(link, path, 'after the echoes')
  metrics.rttMs = median(rtt)
  metrics.throughputMBps = await measureThroughput(pipe, mailbox)
  expectPath(link, path, 'after the bulk transfer')
  if (sendsFile(params)) {
    Object.assign(metrics, await sendFile(pipe, mailbox))
    expectPath(link, path, 'after the file')
  }
  return { scenario: params.scenario, metrics, samples: { rttMs: rtt } }
}

async function runB ({ params, mailbox }: PageContext): Promise<void> {
  const direct = params.scenario === 'lifeline'
  const peer = await startOnRelay(params, direct)
  const linked = incomingLink(peer)
  await mailbox.put('b-id', peer.peerId)
  const { link, pipe } = await profiled('connect', async () => {
    const incoming = await linked
    // when B learnt of the link (A's connect() trace); not awaited, the first message may be on its way
    const linkAt = now()
    void mailbox.put('link-at', linkAt)
    return incoming
  })
  await answer(pipe, mailbox, async () => {
    if (direct) {
      await link.waitForPath('direct')
      await mailbox.put('b-direct', now())
    }
  })
  if (sendsFile(params)) {
    await receiveFile(pipe, mailbox)
  }
}

export const lifeline = { runA, runB }
