/**
 * Bookkeeping for the hostile suite: each phase samples the relay's memory while
 * it runs and times a legitimate peer's service, and the suite prints one line per
 * phase at the end (the figures the relay README's security model quotes).
 */
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Libp2p } from 'libp2p'
import { echoThroughRelay, startDialer, startEchoPeer, waitForReservation } from './clients.js'
import type { RelayProcess } from './relay-process.js'

/**
 * The goal is service within 2 s on this machine during every attack; CI
 * may run several times slower, so the assertion allows ten times that and the
 * measured time is printed.
 */
export const LEGIT_SERVICE_BOUND_MS = 20_000

/** How often relay memory is sampled during a phase. */
const RSS_SAMPLE_INTERVAL_MS = 100

export interface PhaseReport {
  phase: string
  relayAlive: boolean
  legitServiceMs: number[]
  rssBeforeMiB: number
  rssMaxMiB: number
  rssAfterMiB: number
}

export const reports: PhaseReport[] = []

const MiB = 1024 * 1024

export class Phase {
  private readonly report: PhaseReport
  private readonly sampler: ReturnType<typeof setInterval>

  private constructor (private readonly relay: RelayProcess, phase: string, rssBefore: number) {
    this.report = { phase, relayAlive: true, legitServiceMs: [], rssBeforeMiB: rssBefore / MiB, rssMaxMiB: rssBefore / MiB, rssAfterMiB: 0 }
    this.sampler = setInterval(() => {
      relay.rssBytes().then(rss => { this.report.rssMaxMiB = Math.max(this.report.rssMaxMiB, rss / MiB) }, () => {})
    }, RSS_SAMPLE_INTERVAL_MS)
  }

  static async start (relay: RelayProcess, phase: string): Promise<Phase> {
    return new Phase(relay, phase, await relay.rssBytes())
  }

  get maxRssBytes (): number {
    return this.report.rssMaxMiB * MiB
  }

  get rssBeforeBytes (): number {
    return this.report.rssBeforeMiB * MiB
  }

  /**
   * A peer from 127.0.0.1 (attackers use other addresses) reserves, is dialled
   * through a circuit and echoes; returns how long all of it took.
   */
  async legitService (): Promise<number> {
    const signal = AbortSignal.timeout(LEGIT_SERVICE_BOUND_MS)
    const started = performance.now()
    const peers: Libp2p[] = []
    try {
      const listener = await startEchoPeer(this.relay.multiaddr)
      peers.push(listener)
      await waitForReservation(listener, signal)
      const dialer = await startDialer()
      peers.push(dialer)
      await echoThroughRelay(dialer, listener, this.relay.multiaddr, signal)
    } finally {
      await Promise.all(peers.map(async peer => { await peer.stop() }))
    }
    const elapsed = performance.now() - started
    this.report.legitServiceMs.push(Math.round(elapsed))
    return elapsed
  }

  async end (): Promise<void> {
    clearInterval(this.sampler)
    this.report.relayAlive = this.relay.alive()
    this.report.rssAfterMiB = this.report.relayAlive ? (await this.relay.rssBytes()) / MiB : Number.NaN
    reports.push(this.report)
  }
}

export function printReports (): void {
  const lines = reports.map(r => `${r.phase.padEnd(44)} alive=${String(r.relayAlive).padEnd(5)} legit=${r.legitServiceMs.join('/')} ms  ` +
    `RSS before/max/after ${r.rssBeforeMiB.toFixed(0)}/${r.rssMaxMiB.toFixed(0)}/${r.rssAfterMiB.toFixed(0)} MiB`)
  process.stderr.write(`\nhostile-client suite against a real relay process:\n${lines.join('\n')}\n`)
}

const SINK_CHILD = fileURLToPath(new URL('./sink-peer-child.mjs', import.meta.url))

export interface SinkPeer {
  peerId: string
  pid: number
  kill(): void
}

/** A reserved peer in its own process, so the suite can freeze it with SIGSTOP. */
export async function startSinkPeer (relayAddr: string): Promise<SinkPeer> {
  const child = fork(SINK_CHILD, [relayAddr], { execArgv: ['--experimental-websocket'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const peerId = await new Promise<string>((resolve, reject) => {
    child.once('message', (message: { peerId: string }) => { resolve(message.peerId) })
    child.once('exit', code => { reject(new Error(`sink peer exited with ${String(code)}`)) })
  })
  if (child.pid === undefined) {
    throw new Error('sink peer has no pid')
  }
  return { peerId, pid: child.pid, kill: () => { child.kill('SIGKILL') } }
}
