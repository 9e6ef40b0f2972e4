/**
 * The fault scenarios. Browser A streams numbered messages to B at a steady pace (one
 * every STREAM_INTERVAL_MS), asks the runner for a fault after STREAM_BEFORE_FAULT_MS
 * plus a random part of one ping interval (FAULT_PHASE_MS), and streams on until the link has recovered; B notes when each message arrives and
 * checks that every one arrives once and in order (a run fails otherwise).
 *
 * - `lifeline-failover`: a direct link (one relay); the runner blocks UDP in B's
 *   namespace. Figures: the longest pause between arrivals once the fault is in place
 *   (failoverGapMs) and the time until A's link reports the path change to 'relayed'
 *   (deadPathDetectMs).
 * - `lifeline-relay-failover`: a relayed link (`direct: false`, two relays, both peers
 *   reserved on both, so the SDK can hold a spare route through the other relay); the
 *   runner SIGKILLs the relay whose port carried the stream. Figure: the longest pause
 *   (relayFailoverMs).
 * - `libp2p-failover`: plain js-libp2p's WebRTC connection under the same stream and
 *   fault. It has no failover; its figure is the time until the connection closes
 *   (deadPathDetectMs), whichever of its connection monitor or ICE noticed first.
 */
import type { Link, Peer } from '@lifeline/sdk'
import { multiaddr } from '@multiformats/multiaddr'
import { FAULT_PHASE_MS, STREAM_BEFORE_FAULT_MS, STREAM_INTERVAL_MS, STREAM_MESSAGE_BYTES } from '../shared.js'
import type { FaultDone, ResultReport } from '../shared.js'
import { now, requestFault, sleep } from './exchange.js'
import { PROTOCOL, startNode, streamPipe } from './libp2p.js'
import type { Stream } from './libp2p.js'
import { expectPath, incomingLink, linkPipe, startPeer } from './lifeline.js'
import type { Pipe } from './measure.js'
import type { PageContext } from './scenario.js'

/** Lifeline must notice a dead direct path within this (its ping timeout is at most 2 s). */
const DETECT_TIMEOUT_MS = 15_000
/**
 * Plain js-libp2p pings every 10 s by default; ICE gives up after ~30 s. With the fault
 * at most 11.5 s after the dial, within PAGE_DEADLINE_MS.
 */
const LIBP2P_DETECT_TIMEOUT_MS = 33_000
/** Streaming goes on this long after the path change, so the gap is closed by fresh messages too. */
const AFTER_DETECT_MS = 1000
/** The relayed link has no path change to wait for: stream on this long after the kill. */
const AFTER_RELAY_KILL_MS = 3000
const RESERVATIONS_TIMEOUT_MS = 15_000
const POLL_MS = 10

/** How long to stream before asking for the fault (see FAULT_PHASE_MS). */
function beforeFault (phaseMs: number): number {
  return STREAM_BEFORE_FAULT_MS + Math.random() * phaseMs
}

async function waitUntil (check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!check()) {
    if (performance.now() > deadline) {
      throw new Error(`${what} within ${timeoutMs} ms`)
    }
    await sleep(POLL_MS)
  }
}

function encode (seq: number, end: boolean): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(STREAM_MESSAGE_BYTES)
  const view = new DataView(bytes.buffer)
  view.setUint32(0, seq)
  view.setUint32(4, end ? 1 : 0)
  view.setFloat64(8, now())
  return bytes
}

/** Sends message n at start + n x STREAM_INTERVAL_MS (late ones at once) until stopped. */
class PacedSender {
  sent = 0
  error: Error | undefined
  private readonly stopping = new AbortController()
  private readonly running: Promise<void>

  constructor (private readonly pipe: Pipe) {
    this.running = this.run().catch((err: unknown) => { this.error = err instanceof Error ? err : new Error(String(err)) })
  }

  /** Stops the pace and sends the end marker, which carries the count. */
  async finish (): Promise<number> {
    this.stopping.abort()
    await this.running
    if (this.error !== undefined) {
      throw this.error
    }
    await this.pipe.send(encode(this.sent, true))
    return this.sent
  }

  /** Stops without an end marker (the transport may be dead: nothing is awaited). */
  abandon (): void {
    this.stopping.abort()
  }

  private stopped (): boolean {
    return this.stopping.signal.aborted
  }

  private async run (): Promise<void> {
    const started = performance.now()
    while (!this.stopped()) {
      const wait = started + this.sent * STREAM_INTERVAL_MS - performance.now()
      if (wait > 0) {
        await sleep(wait)
      }
      if (this.stopped()) {
        return
      }
      await this.pipe.send(encode(this.sent, false))
      this.sent++
    }
  }
}

/** B's account of the stream, put in the mailbox under `stream`. */
interface StreamReport {
  messages: number
  /** Longest time between consecutive arrivals, of those whose later arrival came after the fault. */
  maxGapMs: number
  /** When the message that ended that pause arrived (ms since the epoch). */
  gapEndAt: number
  /** Longest time between consecutive arrivals before the fault: the stream's own jitter. */
  maxGapBeforeFaultMs: number
  /** Longest time from send() in A to arrival in B. */
  maxLatencyMs: number
  /** When B's link reported the path change to 'relayed', if it did. */
  pathChangeAt?: number
}

/** Reads the stream up to its end marker; throws on a lost, repeated or reordered message. */
async function receiveStream (pipe: Pipe): Promise<{ arrivals: number[], maxLatencyMs: number }> {
  const arrivals: number[] = []
  let maxLatencyMs = 0
  for (;;) {
    const bytes = await pipe.reader.read(STREAM_MESSAGE_BYTES)
    const at = now()
    const view = new DataView(bytes.buffer)
    const seq = view.getUint32(0)
    if (view.getUint32(4) === 1) {
      if (seq !== arrivals.length) {
        throw new Error(`A sent ${seq} messages, B received ${arrivals.length}`)
      }
      return { arrivals, maxLatencyMs }
    }
    if (seq !== arrivals.length) {
      throw new Error(`message ${seq} arrived where ${arrivals.length} was due (lost, repeated or out of order)`)
    }
    arrivals.push(at)
    maxLatencyMs = Math.max(maxLatencyMs, at - view.getFloat64(8))
  }
}

function summarizeStream (arrivals: number[], maxLatencyMs: number, fault: FaultDone): StreamReport {
  let maxGapMs = 0
  let gapEndAt = 0
  let maxGapBeforeFaultMs = 0
  for (let i = 1; i < arrivals.length; i++) {
    const at = arrivals[i] ?? 0
    const gap = at - (arrivals[i - 1] ?? 0)
    if (at <= fault.at) {
      maxGapBeforeFaultMs = Math.max(maxGapBeforeFaultMs, gap)
    } else if (gap > maxGapMs) {
      maxGapMs = gap
      gapEndAt = at
    }
  }
  return { messages: arrivals.length, maxGapMs, gapEndAt, maxGapBeforeFaultMs, maxLatencyMs }
}

/** Both relays hold a reservation for `peer`, so a link can have a route through each. */
async function reservedOnAll (peer: Peer, count: number): Promise<void> {
  const reserved = (): number => peer.status().relays.filter((relay) => relay.state === 'reserved').length
  await waitUntil(() => reserved() >= count, RESERVATIONS_TIMEOUT_MS, `${count} relays did not all hold a reservation`)
}

async function startLifeline ({ params }: PageContext): Promise<{ peer: Peer, direct: boolean }> {
  const direct = params.scenario === 'lifeline-failover'
  const relays = direct ? [params.relay] : [params.relay, params.relay2]
  const peer = await startPeer(relays, direct)
  await reservedOnAll(peer, relays.length)
  return { peer, direct }
}

/** The first time `link` reports the path change to 'relayed'. */
function watchFallback (link: Link): () => number | undefined {
  let at: number | undefined
  link.addEventListener('pathchange', (event) => {
    if (event.detail.path === 'relayed') {
      at ??= now()
    }
  })
  return () => at
}

async function lifelineA (context: PageContext): Promise<ResultReport> {
  const { params, mailbox } = context
  const { peer, direct } = await startLifeline(context)
  const link = await peer.connect(await mailbox.get('b-id'))
  const pipe = linkPipe(link)
  if (direct) {
    await link.waitForPath('direct')
    await mailbox.get('b-direct')
  }
  const fellBack = watchFallback(link)
  const sender = new PacedSender(pipe)
  const streamed = beforeFault(FAULT_PHASE_MS.lifeline)
  await sleep(streamed)
  expectPath(link, direct ? 'direct' : 'relayed', 'before the fault')
  const fault = await requestFault(params.session, mailbox, direct ? 'block-udp' : 'kill-relay')
  if (direct) {
    await waitUntil(() => fellBack() !== undefined, DETECT_TIMEOUT_MS, 'the link reported no path change to \'relayed\'')
    await sleep(AFTER_DETECT_MS)
  } else {
    await sleep(AFTER_RELAY_KILL_MS)
  }
  const sent = await sender.finish()
  const stream = JSON.parse(await mailbox.get('stream')) as StreamReport
  if (stream.messages !== sent) {
    throw new Error(`A sent ${sent} messages, B reports ${stream.messages}`)
  }
  const metrics: ResultReport['metrics'] = {
    messages: sent,
    gapEndAfterFaultMs: stream.gapEndAt - fault.at,
    maxGapBeforeFaultMs: stream.maxGapBeforeFaultMs,
    maxLatencyMs: stream.maxLatencyMs,
    faultTookMs: fault.at - fault.startedAt,
    streamedBeforeFaultMs: streamed
  }
  if (direct) {
    metrics.failoverGapMs = stream.maxGapMs
    metrics.deadPathDetectMs = (fellBack() ?? Number.NaN) - fault.at
    if (stream.pathChangeAt !== undefined) {
      metrics.deadPathDetectBMs = stream.pathChangeAt - fault.at
    }
  } else {
    metrics.relayFailoverMs = stream.maxGapMs
    metrics.killedRelay = fault.relay ?? 0
    // the bytes each relay port received in the runner's sampling window: which one carried the stream
    for (const [i, bytes] of (fault.relayBytes ?? []).entries()) {
      metrics[`relay${i + 1}SampleBytes`] = bytes
    }
    expectPath(link, 'relayed', 'after the relay was killed')
  }
  return { scenario: params.scenario, metrics, samples: {} }
}

async function lifelineB (context: PageContext): Promise<void> {
  const { mailbox } = context
  const { peer, direct } = await startLifeline(context)
  const linked = incomingLink(peer)
  await mailbox.put('b-id', peer.peerId)
  const { link, pipe } = await linked
  // reading from the start: arrival times are taken as messages come in
  const receiving = receiveStream(pipe)
  if (direct) {
    await link.waitForPath('direct')
    await mailbox.put('b-direct', now())
  }
  const fellBack = watchFallback(link)
  const { arrivals, maxLatencyMs } = await receiving
  const report = summarizeStream(arrivals, maxLatencyMs, JSON.parse(await mailbox.get('fault')) as FaultDone)
  const pathChangeAt = fellBack()
  if (pathChangeAt !== undefined) {
    report.pathChangeAt = pathChangeAt
  }
  await mailbox.put('stream', JSON.stringify(report))
}

async function libp2pA ({ params, mailbox }: PageContext): Promise<ResultReport> {
  const node = await startNode(params.relay)
  const address = multiaddr(`${params.relay}/p2p-circuit/webrtc/p2p/${await mailbox.get('b-id')}`)
  const connection = await node.dial(address)
  if (!connection.remoteAddr.toString().includes('/webrtc')) {
    throw new Error(`dialled ${address.toString()}, connected over ${connection.remoteAddr.toString()}`)
  }
  let closedAt: number | undefined
  connection.addEventListener('close', () => { closedAt ??= now() })
  const closed = (): number | undefined => closedAt
  const stream = await connection.newStream(PROTOCOL)
  const sender = new PacedSender(streamPipe(stream))
  const streamed = beforeFault(FAULT_PHASE_MS.libp2p)
  await sleep(streamed)
  if (closed() !== undefined || sender.error !== undefined) {
    throw new Error(`the connection failed before the fault: ${String(sender.error)}`)
  }
  const fault = await requestFault(params.session, mailbox, 'block-udp')
  await waitUntil(() => closed() !== undefined, LIBP2P_DETECT_TIMEOUT_MS, 'the WebRTC connection did not close')
  sender.abandon()
  const metrics: ResultReport['metrics'] = {
    deadPathDetectMs: (closed() ?? Number.NaN) - fault.at,
    sentBeforeClose: sender.sent,
    faultTookMs: fault.at - fault.startedAt,
    streamedBeforeFaultMs: streamed
  }
  return { scenario: params.scenario, metrics, samples: {} }
}

async function libp2pB ({ params, mailbox }: PageContext): Promise<void> {
  const node = await startNode(params.relay)
  let onStream: ((stream: Stream) => void) | undefined
  const incoming = new Promise<Pipe>((resolve) => { onStream = (stream) => { resolve(streamPipe(stream)) } })
  await node.handle(PROTOCOL, (stream) => { onStream?.(stream) }, { runOnLimitedConnection: true })
  await mailbox.put('b-id', node.peerId.toString())
  const pipe = await incoming
  // read until the connection dies under the fault: that is the expected end here
  await receiveStream(pipe).catch(() => undefined)
}

export const lifelineFailover = { runA: lifelineA, runB: lifelineB }
export const libp2pFailover = { runA: libp2pA, runB: libp2pB }
