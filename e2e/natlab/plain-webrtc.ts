/**
 * The negative control: two raw RTCPeerConnections, one per browser, with the same
 * STUN server as the SDK and no relay fallback, signalled by the test through
 * `page.evaluate`. Where this cannot connect, a direct path is impossible, so the
 * matrix shows the SDK's relay fallback doing real work; where it connects, the SDK
 * must find the direct path too.
 */
import type { Page } from '@playwright/test'
import type { CandidatePairRecord } from '../harness/api.js'

/**
 * Gathering with a STUN server takes ~100 ms when UDP flows; on a UDP-blocked network
 * Chromium waits ~40 s for the STUN answer. Signal what was gathered by then: host
 * candidates always are, and a server-reflexive one whenever STUN is reachable.
 */
const GATHER_CAP_MS = 2500

interface ControlWindow {
  controlPc: RTCPeerConnection
  controlChannel: RTCDataChannel | undefined
  controlInbox: string[]
}

export interface ControlResult {
  connected: boolean
  /** From applying the answer to both channels open, or to the deadline. */
  ms: number
  /** ICE connection states of A and B at the end. */
  state: string
  /** Candidate types each side signalled, e.g. `A host+srflx, B host`. */
  gathered: string
  /** The pair each side's ICE agent chose, when it connected. */
  pairs: { a: CandidatePairRecord, b: CandidatePairRecord } | undefined
}

/** Create the connection in `page` and return its SDP with what was gathered within the cap. */
async function describe (page: Page, stunUrl: string, offer: string | undefined): Promise<string> {
  return page.evaluate(async ([urls, remoteOffer, capMs]) => {
    const w = window as unknown as ControlWindow
    w.controlInbox = []
    w.controlChannel = undefined
    const pc = new RTCPeerConnection({ iceServers: [{ urls }] })
    w.controlPc = pc
    const keep = (channel: RTCDataChannel): void => {
      w.controlChannel = channel
      channel.onmessage = (event) => { w.controlInbox.push(String(event.data)) }
    }
    if (remoteOffer === undefined) {
      keep(pc.createDataChannel('control'))
    } else {
      pc.ondatachannel = (event) => { keep(event.channel) }
      await pc.setRemoteDescription({ type: 'offer', sdp: remoteOffer })
    }
    const gathered = new Promise<void>((resolve) => {
      pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') resolve() })
      setTimeout(resolve, capMs)
    })
    await pc.setLocalDescription()
    await gathered
    return pc.localDescription?.sdp ?? ''
  }, [stunUrl, offer, GATHER_CAP_MS] as const)
}

function candidateTypes (sdp: string): string {
  const types = new Set(sdp.split(/\r?\n/)
    .filter((line) => line.startsWith('a=candidate:'))
    .map((line) => /\styp (\w+)/.exec(line)?.[1] ?? '?'))
  return types.size === 0 ? 'none' : [...types].join('+')
}

/** Resolves true once the control channel is open, false at the deadline. */
async function waitOpen (page: Page, deadlineMs: number): Promise<boolean> {
  return page.evaluate(async (ms) => {
    const w = window as unknown as ControlWindow
    const start = performance.now()
    while (performance.now() - start < ms) {
      if (w.controlChannel?.readyState === 'open') {
        return true
      }
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    return false
  }, deadlineMs)
}

async function iceState (page: Page): Promise<string> {
  return page.evaluate(() => (window as unknown as ControlWindow).controlPc.iceConnectionState)
}

async function selectedPair (page: Page): Promise<CandidatePairRecord> {
  return page.evaluate(async () => {
    const stats = await (window as unknown as ControlWindow).controlPc.getStats()
    const byId = new Map<string, Record<string, unknown>>()
    stats.forEach((report: Record<string, unknown>) => { byId.set(String(report.id), report) })
    for (const report of byId.values()) {
      if (report.type === 'transport' && typeof report.selectedCandidatePairId === 'string') {
        const pair = byId.get(report.selectedCandidatePairId)
        const end = (id: unknown): { type: string, address: string, port: number } => {
          const c = byId.get(String(id))
          return { type: String(c?.candidateType), address: String(c?.address), port: Number(c?.port) }
        }
        return { local: end(pair?.localCandidateId), remote: end(pair?.remoteCandidateId) }
      }
    }
    throw new Error('no selected candidate pair')
  })
}

/** Send one message each way over the open channel; resolves true when both arrived. */
async function exchange (a: Page, b: Page): Promise<boolean> {
  for (const [from, text] of [[a, 'control from A'], [b, 'control from B']] as const) {
    await from.evaluate((t) => { (window as unknown as ControlWindow).controlChannel?.send(t) }, text)
  }
  const arrived = async (page: Page, text: string): Promise<boolean> => page.evaluate(async (t) => {
    const w = window as unknown as ControlWindow
    for (let i = 0; i < 100 && !w.controlInbox.includes(t); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    return w.controlInbox.includes(t)
  }, text)
  return (await arrived(b, 'control from A')) && (await arrived(a, 'control from B'))
}

/**
 * Offer from A, answer from B, each with what it gathered within the cap; then wait
 * up to `deadlineMs` for the data channel to open on both sides and carry a message
 * each way. Does not wait for ICE to declare failure (~15 s): a connection that NATs
 * allow opens in well under a second here.
 */
export async function plainWebRtc (a: Page, b: Page, stunUrl: string, deadlineMs: number): Promise<ControlResult> {
  const offer = await describe(a, stunUrl, undefined)
  const answer = await describe(b, stunUrl, offer)
  const started = Date.now()
  await a.evaluate(async (sdp) => {
    await (window as unknown as ControlWindow).controlPc.setRemoteDescription({ type: 'answer', sdp })
  }, answer)
  const [openA, openB] = await Promise.all([waitOpen(a, deadlineMs), waitOpen(b, deadlineMs)])
  const ms = Date.now() - started
  const connected = openA && openB && await exchange(a, b)
  const result: ControlResult = {
    connected,
    ms,
    state: `A ${await iceState(a)}, B ${await iceState(b)}`,
    gathered: `A ${candidateTypes(offer)}, B ${candidateTypes(answer)}`,
    pairs: connected ? { a: await selectedPair(a), b: await selectedPair(b) } : undefined
  }
  for (const page of [a, b]) {
    await page.evaluate(() => { (window as unknown as ControlWindow).controlPc.close() })
  }
  return result
}
