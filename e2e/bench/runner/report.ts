/**
 * From scenario reports to the figures: medians per figure, the table printed on
 * stdout, and the content of bench-results.json.
 */
import { cpus, loadavg, release, totalmem } from 'node:os'
import { exec } from '../../lab/exec.js'
import { CHROMIUM } from '../../lab/netns.js'
import type { ResultReport, Scenario } from '../shared.js'

export const IMPLEMENTATIONS = ['lifeline', 'libp2p', 'rtcDataChannel'] as const
export type Implementation = typeof IMPLEMENTATIONS[number]

/** Where a figure comes from: the scenario and the name the page reported it under. */
type Source = readonly [Scenario, string]

interface Row {
  label: string
  /** The figure's name in bench-results.json, per implementation. */
  figures: Partial<Record<Implementation, { name: string, from: Source }>>
}

const ROWS: Row[] = [
  {
    label: 'reservation (createPeer/createLibp2p + start until reserved), ms',
    figures: {
      lifeline: { name: 'reservationMs', from: ['lifeline', 'reservationMs'] },
      libp2p: { name: 'reservationMs', from: ['libp2p', 'reservationMs'] }
    }
  },
  {
    label: 'first message (connect/dial until it arrives), ms',
    figures: {
      lifeline: { name: 'firstMessageMs', from: ['lifeline', 'firstMessageMs'] },
      libp2p: { name: 'firstMessageMs', from: ['libp2p', 'firstMessageMs'] },
      rtcDataChannel: { name: 'firstMessageMs', from: ['rtc', 'firstMessageMs'] }
    }
  },
  {
    label: 'first message, relay only, ms',
    figures: {
      lifeline: { name: 'firstMessageRelayOnlyMs', from: ['lifeline-relayed', 'firstMessageMs'] },
      libp2p: { name: 'firstMessageRelayOnlyMs', from: ['libp2p-relayed', 'firstMessageMs'] }
    }
  },
  {
    label: 'direct connection (connect/dial until direct; DataChannel open), ms',
    figures: {
      lifeline: { name: 'directMs', from: ['lifeline', 'directMs'] },
      libp2p: { name: 'directMs', from: ['libp2p', 'directMs'] },
      rtcDataChannel: { name: 'connectMs', from: ['rtc', 'connectMs'] }
    }
  },
  {
    label: 'RTT direct (echo), ms',
    figures: {
      lifeline: { name: 'rttDirectMs', from: ['lifeline', 'rttMs'] },
      libp2p: { name: 'rttDirectMs', from: ['libp2p', 'rttMs'] },
      rtcDataChannel: { name: 'rttMs', from: ['rtc', 'rttMs'] }
    }
  },
  {
    label: 'RTT relayed (echo), ms',
    figures: {
      lifeline: { name: 'rttRelayedMs', from: ['lifeline-relayed', 'rttMs'] },
      libp2p: { name: 'rttRelayedMs', from: ['libp2p-relayed', 'rttMs'] }
    }
  },
  {
    label: 'throughput direct (20 MB), MB/s',
    figures: {
      lifeline: { name: 'throughputDirectMBps', from: ['lifeline', 'throughputMBps'] },
      libp2p: { name: 'throughputDirectMBps', from: ['libp2p', 'throughputMBps'] },
      rtcDataChannel: { name: 'throughputMBps', from: ['rtc', 'throughputMBps'] }
    }
  },
  {
    label: 'throughput relayed (20 MB), MB/s',
    figures: {
      lifeline: { name: 'throughputRelayedMBps', from: ['lifeline-relayed', 'throughputMBps'] },
      libp2p: { name: 'throughputRelayedMBps', from: ['libp2p-relayed', 'throughputMBps'] }
    }
  },
  {
    label: 'JS ChaCha20-Poly1305 alone in a page, seal (64 KiB messages), MB/s',
    figures: { libp2p: { name: 'cipherSealMBps', from: ['libp2p-relayed', 'cipherSealMBps'] } }
  },
  {
    label: 'JS ChaCha20-Poly1305 alone in a page, open (64 KiB messages), MB/s',
    figures: { libp2p: { name: 'cipherOpenMBps', from: ['libp2p-relayed', 'cipherOpenMBps'] } }
  },
  {
    label: '50 MB file direct: MB/s',
    figures: { lifeline: { name: 'fileDirectMBps', from: ['lifeline', 'fileMBps'] } }
  },
  {
    label: '50 MB file direct: longest pause in its progress at B, ms',
    figures: { lifeline: { name: 'fileDirectMaxStallMs', from: ['lifeline', 'fileMaxStallMs'] } }
  },
  {
    label: '50 MB file relayed: MB/s',
    figures: { lifeline: { name: 'fileRelayedMBps', from: ['lifeline-relayed', 'fileMBps'] } }
  },
  {
    label: '50 MB file relayed: longest pause in its progress at B, ms',
    figures: { lifeline: { name: 'fileRelayedMaxStallMs', from: ['lifeline-relayed', 'fileMaxStallMs'] } }
  },
  {
    label: 'failover gap, direct path dies (longest pause in a 5 ms stream), ms',
    figures: {
      lifeline: { name: 'failoverGapMs', from: ['lifeline-failover', 'failoverGapMs'] }
    }
  },
  {
    label: 'failover gap, relay process killed (2 relays), ms',
    figures: {
      lifeline: { name: 'relayFailoverMs', from: ['lifeline-relay-failover', 'relayFailoverMs'] }
    }
  },
  {
    label: 'dead direct path detected (UDP blocked until pathchange/close), ms',
    figures: {
      lifeline: { name: 'deadPathDetectMs', from: ['lifeline-failover', 'deadPathDetectMs'] },
      libp2p: { name: 'deadPathDetectMs', from: ['libp2p-failover', 'deadPathDetectMs'] }
    }
  },
  {
    label: 'relay traffic per idle reserved peer, B/s',
    figures: {
      lifeline: { name: 'idleReservedPeerBytesPerSec', from: ['lifeline-idle', 'idleReservedPeerBytesPerSec'] },
      libp2p: { name: 'idleReservedPeerBytesPerSec', from: ['libp2p-idle', 'idleReservedPeerBytesPerSec'] }
    }
  },
  {
    label: 'relay traffic per idle direct link, B/s',
    figures: {
      lifeline: { name: 'idleLinkBytesPerSec', from: ['lifeline-idle', 'idleLinkBytesPerSec'] },
      libp2p: { name: 'idleLinkBytesPerSec', from: ['libp2p-idle', 'idleLinkBytesPerSec'] }
    }
  }
]

/**
 * Lifeline's relayed path over each relay transport: plain WebSockets (relay 1), and
 * WSS and WebRTC-Direct (the TLS relay), one scenario each, the same figures. These
 * decide the SDK's RELAY_TRANSPORT_PREFERENCE.
 */
export const RELAY_TRANSPORTS = ['ws', 'wss', 'webrtc-direct'] as const
type RelayTransportName = typeof RELAY_TRANSPORTS[number]
const TRANSPORT_SCENARIOS: Record<RelayTransportName, Scenario> = {
  ws: 'lifeline-relayed',
  wss: 'lifeline-relayed-wss',
  'webrtc-direct': 'lifeline-relayed-webrtc-direct'
}
const TRANSPORT_FIGURES = [
  { label: 'reservation (createPeer + start until reserved), ms', metric: 'reservationMs' },
  { label: 'first message (connect until it arrives), ms', metric: 'firstMessageMs' },
  { label: 'RTT relayed (echo), ms', metric: 'rttMs' },
  { label: 'throughput relayed (20 MB), MB/s', metric: 'throughputMBps' }
] as const

/**
 * Where Lifeline's connect() spends its time, in ms from the call (medians): its
 * progress events, when it returned, when B's peer announced the link, when the first
 * message arrived, when the link went direct. Both the direct and the relay-only
 * scenario, so the cost of starting the direct upgrade alongside shows.
 */
const STEP_SCENARIOS = ['lifeline', 'lifeline-relayed'] as const
const STEPS = [
  { label: 'relay circuit dial starts (dial-relayed)', metric: 'step:dial-relayed' },
  { label: 'circuit, Noise, Yamux and link stream open (relayed)', metric: 'step:relayed' },
  { label: 'link handshake done (link-open)', metric: 'step:link-open' },
  { label: 'connect() returned', metric: 'step:returned' },
  { label: 'B announced the link', metric: 'step:link-at-b' },
  { label: 'first message arrived at B', metric: 'firstMessageMs' },
  { label: 'link direct', metric: 'directMs' }
] as const

/** Scenarios whose every figure (the ones behind the table and their sanity checks) is kept per run. */
const FAULT_SCENARIOS: readonly Scenario[] = ['lifeline-failover', 'lifeline-relay-failover', 'libp2p-failover', 'lifeline-idle', 'libp2p-idle']

export const NOTES = [
  'Each figure is the median over the runs; each RTT sample is itself the median of 50 echoes of 16 bytes.',
  'Both Chromiums were started directly (headless, no DevTools client attached); each page ran its scenario and reported over HTTP.',
  'The relay (lifeline-relay, namespace A) has no circuit caps, unlike libp2p\'s defaults (128 KiB and 2 min per circuit), so js-libp2p\'s relayed figures exist at all.',
  'Lifeline\'s first message travels over the relay (usable at once); js-libp2p\'s goes over the WebRTC connection it dialled (<relay>/p2p-circuit/webrtc/p2p/<B>); "relay only" dials <relay>/p2p-circuit/p2p/<B> (Lifeline: direct: false).',
  'RTCDataChannel: ordered, reliable, bufferedAmount watermarks 1 MiB/4 MiB, descriptions sent at the first ICE candidate through the bench server; its connection time runs from new RTCPeerConnection() to the channel\'s open event.',
  'JS ChaCha20-Poly1305: the cipher behind Noise in both stacks in a browser (@noble/ciphers), measured by itself in page A of the js-libp2p relayed scenario after its transfer (8 MB in 64 KiB messages). Each relayed byte is sealed twice by the sending page (end to end, then to the relay) and opened twice by the receiving one, so half of the smaller of the two figures bounds relayed throughput for either stack on this machine, before any other work.',
  'Failover: A streams 16-byte numbered messages to B, one every 5 ms; after 1.5 s plus a random part of one liveness-check interval (Lifeline\'s path pings: 0-0.5 s; js-libp2p\'s connection monitor: 0-10 s, so its figure does not depend on the bench\'s fixed timing) the runner breaks the path; B notes each arrival and the run fails unless every message arrived once and in order. The gap is the longest time between consecutive arrivals whose later arrival came after the fault (the stream\'s own jitter before the fault is kept as maxGapBeforeFaultMs in faultRuns). Direct: a direct link (one relay), UDP dropped in B\'s namespace with nftables. Relay: both peers direct: false with relays [r1, r2] (two relay processes in namespace A, each peer reserved on both), and the runner SIGKILLs the relay whose port received the most bytes in 400 ms of the stream (nftables counters in namespace A), then restarts it after the run; faultRuns says which (killedRelay) and the bytes behind the choice. A gap no longer than maxGapBeforeFaultMs means the failover did not show above the stream\'s own jitter.',
  'Dead path detected: from the moment the UDP block was in place (nft returned) until A\'s link reported pathchange to relayed; B\'s own detection is in faultRuns (deadPathDetectBMs). js-libp2p (default config, same stream over a WebRTC connection dialled through the relay) has no failover, so it has no gap figure: its stream dies with the connection; its detection time is until that connection\'s close event, from its connection monitor (a ping every 10 s, adaptive timeout) or ICE, whichever comes first. RTCDataChannel has no figure here: it would only be ICE\'s own consent timeout.',
  'Relay transports: the relayed scenario again with both peers on one address of a third relay, which serves WSS (TLS on TCP 443, a certificate from a CA made for the run and trusted by both browsers\' NSS databases) and WebRTC-Direct (UDP 4443); "ws" is the plain WebSocket relay of the other rows. The page fails the run unless status() shows the relay held over that transport.',
  'Idle cost: both peers reserve on relay 1 and do nothing; nftables counters in namespace A count every byte (IP and TCP headers included) relay 1\'s port receives and sends over 15 s, after 6 s to settle (Lifeline pings at its busy pace for 5 s after data). Per reserved peer: that window over two peers. Per idle link: A then links to B (Lifeline: a direct link that sent one message; js-libp2p: a WebRTC connection dialled through the relay with one stream that sent one message), both wait 6 s, and the runner counts again; the figure is what the second window costs beyond the first.',
  'Times across the two browsers use performance.timeOrigin + now() in each page (one host clock); Chromium coarsens page timers to 0.1 ms here (no cross-origin isolation on plain http), which shows in the RTTs. MB = 10^6 bytes.'
]

export interface Failure {
  run: number
  scenario: Scenario
  /** True when the run never started (the budget was spent), false or absent when it failed. */
  skipped?: boolean
  error: string
}

export interface BenchResults {
  runs: number
  lifeline: Record<string, number | null>
  libp2p: Record<string, number | null>
  rtcDataChannel: Record<string, number | null>
  /** Per implementation and figure, the value of every successful run. */
  samples: Record<Implementation, Record<string, number[]>>
  /** Lifeline's connect() steps per scenario (see STEPS), medians. */
  connectSteps: Record<string, Record<string, number | null>>
  /** Lifeline's relayed figures per relay transport (see RELAY_TRANSPORTS), medians. */
  relayTransports: Record<RelayTransportName, Record<string, number | null>>
  /** Per scenario, the RTT samples of every run. */
  rttSamples: Partial<Record<Scenario, number[][]>>
  /** Per fault scenario, every figure of every successful run (the table's and their checks). */
  faultRuns: Partial<Record<Scenario, Array<Record<string, number>>>>
  failures: Failure[]
  notes: string[]
  machine: Record<string, string | number>
  date: string
}

/** Figures keep microseconds (ms) or kB/s (MB/s): the pages' clocks are no finer. */
function round (value: number): number {
  return Math.round(value * 1000) / 1000
}

export function median (values: number[]): number | null {
  if (values.length === 0) {
    return null
  }
  const sorted = [...values].sort((x, y) => x - y)
  const middle = Math.floor(sorted.length / 2)
  const upper = sorted[middle] ?? 0
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? 0) + upper) / 2
}

/** The 1-minute load average: other processes on the host compete with the browsers. */
export function load (): number {
  return Math.round((loadavg()[0] ?? 0) * 100) / 100
}

export async function machine (loadAtStart: number): Promise<Record<string, string | number>> {
  const cores = cpus()
  const chromium = await exec(CHROMIUM, ['--version'], { allowFailure: true })
  return {
    cpu: cores[0]?.model ?? 'unknown',
    cores: cores.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30 * 10) / 10,
    kernel: release(),
    node: process.version,
    chromium: chromium.trim(),
    loadAverageAtStart: loadAtStart,
    loadAverageAtEnd: load()
  }
}

export function summarize (runs: number, reports: ResultReport[], failures: Failure[],
  notes: string[], machineInfo: Record<string, string | number>): BenchResults {
  const samples: BenchResults['samples'] = { lifeline: {}, libp2p: {}, rtcDataChannel: {} }
  const figures: Record<Implementation, Record<string, number | null>> = { lifeline: {}, libp2p: {}, rtcDataChannel: {} }
  for (const row of ROWS) {
    for (const implementation of IMPLEMENTATIONS) {
      const figure = row.figures[implementation]
      if (figure === undefined) {
        continue
      }
      const [scenario, metric] = figure.from
      const values = reports
        .filter((report) => report.scenario === scenario)
        .flatMap((report) => report.metrics[metric] ?? [])
      samples[implementation][figure.name] = values.map(round)
      const middle = median(values)
      figures[implementation][figure.name] = middle === null ? null : round(middle)
    }
  }
  const relayTransports = Object.fromEntries(RELAY_TRANSPORTS.map((transport) => [transport, Object.fromEntries(
    TRANSPORT_FIGURES.map(({ metric }) => {
      const middle = median(reports.filter((r) => r.scenario === TRANSPORT_SCENARIOS[transport]).flatMap((r) => r.metrics[metric] ?? []))
      return [metric, middle === null ? null : round(middle)]
    })
  )])) as BenchResults['relayTransports']
  const connectSteps = Object.fromEntries(STEP_SCENARIOS.map((scenario) => [scenario, Object.fromEntries(
    // the relay-only scenario never goes direct: no figure, rather than a failed one
    STEPS.filter(({ metric }) => !(scenario === 'lifeline-relayed' && metric === 'directMs')).map(({ metric }) => {
      const middle = median(reports.filter((r) => r.scenario === scenario).flatMap((r) => r.metrics[metric] ?? []))
      return [metric, middle === null ? null : round(middle)]
    })
  )]))
  const rttSamples: BenchResults['rttSamples'] = {}
  for (const report of reports) {
    const rtt = report.samples.rttMs
    if (rtt !== undefined) {
      (rttSamples[report.scenario] ??= []).push(rtt.map(round))
    }
  }
  const faultRuns: BenchResults['faultRuns'] = {}
  for (const report of reports) {
    if (FAULT_SCENARIOS.includes(report.scenario)) {
      (faultRuns[report.scenario] ??= []).push(Object.fromEntries(Object.entries(report.metrics).map(([name, value]) => [name, round(value)])))
    }
  }
  return { runs, ...figures, connectSteps, relayTransports, samples, rttSamples, faultRuns, failures, notes, machine: machineInfo, date: new Date().toISOString() }
}

function format (value: number | null | undefined): string {
  if (value === undefined) {
    return '-'
  }
  if (value === null) {
    return 'failed'
  }
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)
}

/** A text table: the first column left-aligned, the others right-aligned. */
function renderTable (header: string[], lines: string[][]): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => (line[column] ?? '').length)))
  const render = (cells: string[]): string => cells
    .map((cell, column) => column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))
    .join(' | ')
  return [render(header), widths.map((width) => '-'.repeat(width)).join('-|-'), ...lines.map(render)]
}

/** The tables, the run count and the notes, as printed on stdout. */
export function formatTable (results: BenchResults): string {
  const lines = ROWS.map((row) => [
    row.label,
    ...IMPLEMENTATIONS.map((implementation) => {
      const figure = row.figures[implementation]
      return format(figure === undefined ? undefined : results[implementation][figure.name])
    })
  ])
  const transportLines = TRANSPORT_FIGURES.map(({ label, metric }) => [
    label,
    ...RELAY_TRANSPORTS.map((transport) => format(results.relayTransports[transport][metric]))
  ])
  const stepLines = STEPS.map(({ label, metric }) => [
    label,
    ...STEP_SCENARIOS.map((scenario) => format(results.connectSteps[scenario]?.[metric]))
  ])
  return [
    ...renderTable(['metric', 'Lifeline', 'js-libp2p', 'RTCDataChannel'], lines),
    '',
    'Lifeline connect(), ms from the call:',
    ...renderTable(['step', ...STEP_SCENARIOS], stepLines),
    '',
    'Lifeline relayed, per relay transport:',
    ...renderTable(['metric', ...RELAY_TRANSPORTS], transportLines),
    '',
    `runs: ${results.runs} (medians; ${results.failures.length} scenario runs failed or skipped)`,
    ...results.failures.map((failure) => `${failure.skipped === true ? 'skipped' : 'failed'}: run ${failure.run} ${failure.scenario}: ${failure.error.split('\n')[0] ?? ''}`),
    'notes:',
    ...results.notes.map((note) => `- ${note}`)
  ].join('\n')
}
