/**
 * The table `pnpm bench:relay` prints: every figure of lifeline-relay beside the
 * stock js-libp2p relay's, then each relay's refusals and errors by kind with one
 * example message. Missing figures (a phase that stopped early) show as "-".
 */
import { RELAY_NAMES, RELAY_TITLES } from './results.js'
import type { BenchResults, CircuitResult, RelayOutcome, RelayResults, ReservationResult } from './results.js'
import { fixed, integer, kib, mib, type Cell } from './format.js'


interface Row {
  label: string
  cell: (relay: RelayResults) => Cell
}


function outcome (relay: RelayOutcome): Cell {
  if (relay.killedForMemory === true) {
    return 'KILLED (RSS cap)'
  }
  if (relay.crashed !== undefined) {
    return `CRASHED (${relay.crashed})`
  }
  if (relay.aliveAtEnd === undefined) {
    return undefined
  }
  return relay.aliveAtEnd ? 'yes' : 'no'
}

function ofReservations (cell: (result: ReservationResult) => Cell): (relay: RelayResults) => Cell {
  return relay => relay.reservations === undefined ? undefined : cell(relay.reservations)
}

function ofCircuits (cell: (result: CircuitResult) => Cell): (relay: RelayResults) => Cell {
  return relay => relay.circuits === undefined ? undefined : cell(relay.circuits)
}

const SECTIONS: ReadonlyArray<{ title: string, rows: Row[] }> = [
  {
    title: 'Reservations',
    rows: [
      { label: 'attempted', cell: ofReservations(r => integer(r.attempted)) },
      { label: 'granted', cell: ofReservations(r => integer(r.granted)) },
      { label: 'refused by the relay', cell: ofReservations(r => integer(r.refused)) },
      { label: 'client errors', cell: ofReservations(r => integer(r.errors)) },
      { label: 'reservations/s', cell: ofReservations(r => fixed(r.perSecond, 0)) },
      { label: 'latency p50 / p95 (ms)', cell: ofReservations(r => r.latencyMs === undefined ? undefined : `${r.latencyMs.p50.toFixed(0)} / ${r.latencyMs.p95.toFixed(0)}`) },
      { label: 'relay CPU while reserving (% core)', cell: ofReservations(r => fixed(r.cpuPercent, 0)) },
      { label: 'relay CPU per reservation (ms)', cell: ofReservations(r => fixed(r.cpuMsPerReservation, 1)) },
      { label: 'reservations per relay CPU-second', cell: ofReservations(r => fixed(r.cpuMsPerReservation === undefined ? undefined : 1000 / r.cpuMsPerReservation, 0)) },
      { label: 'still held after settle', cell: ofReservations(r => integer(r.held)) },
      { label: 'relay CPU while holding (% core)', cell: ofReservations(r => fixed(r.holdCpuPercent, 1)) },
      { label: 'relay CPU per held reservation (us/s)', cell: ofReservations(r => fixed(r.holdCpuMicrosecondsPerReservation, 1)) },
      { label: 'relay RSS idle (MiB)', cell: ofReservations(r => mib(r.rssIdleBytes)) },
      { label: 'relay RSS holding (MiB)', cell: ofReservations(r => mib(r.rssHeldBytes)) },
      { label: 'RSS per reservation (KiB)', cell: ofReservations(r => kib(r.rssPerReservationBytes)) },
      { label: 'relay peak RSS (MiB)', cell: ofReservations(r => mib(r.peakRssBytes)) },
      { label: 'relay alive at end', cell: ofReservations(r => outcome(r.relay)) }
    ]
  },
  {
    title: 'Circuits',
    rows: [
      { label: 'pairs attempted', cell: ofCircuits(c => integer(c.attempted)) },
      { label: 'listener reservations', cell: ofCircuits(c => integer(c.reservations)) },
      { label: 'circuits open', cell: ofCircuits(c => integer(c.open)) },
      { label: 'refused by the relay', cell: ofCircuits(c => integer(c.refused)) },
      { label: 'client errors', cell: ofCircuits(c => integer(c.errors)) },
      { label: 'circuits opened/s', cell: ofCircuits(c => fixed(c.openPerSecond, 0)) },
      { label: 'CONNECT latency p50 / p95 (ms)', cell: ofCircuits(c => c.latencyMs === undefined ? undefined : `${c.latencyMs.p50.toFixed(0)} / ${c.latencyMs.p95.toFixed(0)}`) },
      { label: 'throughput, all circuits (MB/s)', cell: ofCircuits(c => fixed(c.megabytesPerSecond, 1)) },
      { label: 'throughput per circuit (MB/s)', cell: ofCircuits(c => fixed(c.perCircuitMegabytesPerSecond, 3)) },
      { label: 'circuits broken while pushing', cell: ofCircuits(c => integer(c.circuitsBroken)) },
      { label: 'relay CPU while pushing (% core)', cell: ofCircuits(c => fixed(c.cpuPercent, 0)) },
      { label: 'relay CPU per GB relayed (s)', cell: ofCircuits(c => fixed(c.cpuSecondsPerGigabyte, 1)) },
      { label: 'MB relayed per relay CPU-second', cell: ofCircuits(c => fixed(c.cpuSecondsPerGigabyte === undefined ? undefined : 1000 / c.cpuSecondsPerGigabyte, 0)) },
      { label: 'relay RSS idle (MiB)', cell: ofCircuits(c => mib(c.rssIdleBytes)) },
      { label: 'relay RSS circuits open (MiB)', cell: ofCircuits(c => mib(c.rssOpenBytes)) },
      { label: 'relay RSS max while pushing (MiB)', cell: ofCircuits(c => mib(c.rssPushMaxBytes)) },
      { label: 'relay RSS after pushing (MiB)', cell: ofCircuits(c => mib(c.rssAfterPushBytes)) },
      { label: 'relay peak RSS (MiB)', cell: ofCircuits(c => mib(c.peakRssBytes)) },
      { label: 'relay alive at end', cell: ofCircuits(c => outcome(c.relay)) }
    ]
  }
]

function load (value: number | undefined): string {
  return value === undefined ? '-' : value.toFixed(2)
}

export function formatTable (results: BenchResults): string {
  const header = ['', ...RELAY_NAMES.map(name => RELAY_TITLES[name])]
  const lines: string[][] = []
  const sectionRows = new Set<number>()
  for (const section of SECTIONS) {
    const ran = RELAY_NAMES.some(name => section.rows.some(row => row.cell(results.relays[name]) !== undefined))
    if (!ran) {
      continue
    }
    sectionRows.add(lines.length)
    const size = section.title === 'Reservations' ? results.sizes.reservations : results.sizes.circuits
    lines.push([`${section.title} (${size.toLocaleString('en-US')})`, '', ''])
    for (const row of section.rows) {
      lines.push([`  ${row.label}`, ...RELAY_NAMES.map(name => row.cell(results.relays[name]) ?? '-')])
    }
  }
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map(line => (line[column] ?? '').length)))
  const render = (line: string[]): string => line.map((cell, column) => column === 0 ? cell.padEnd(widths[0] ?? 0) : cell.padStart(widths[column] ?? 0)).join('   ')
  const rule = widths.map(width => '-'.repeat(width)).join('   ')
  const out = [
    `Relay capacity, ${results.mode} run, ${results.date} (${results.machine.cpus} x ${results.machine.cpuModel}, Node ${results.machine.node})`,
    `Relay built from ${results.relaySource === undefined ? 'an unknown commit' : `${results.relaySource.commit}${results.relaySource.dirty ? ' with uncommitted changes in packages/relay/src' : ''}`}`,
    `Load average (1 min) at start ${load(results.machine.loadAverage.start)}, at end ${load(results.machine.loadAverage.end)}; both relays get fresh processes per phase and take turns`,
    '',
    render(header),
    rule,
    ...lines.map((line, index) => sectionRows.has(index) ? line[0] ?? '' : render(line))
  ]
  const notes = failureNotes(results)
  if (notes.length > 0) {
    out.push('', ...notes)
  }
  if (results.incomplete !== undefined) {
    out.push('', `INCOMPLETE: ${results.incomplete}`)
  }
  return `${out.join('\n')}\n`
}

/** Per relay and phase: every failure kind with its count and one example, and phase errors. */
function failureNotes (results: BenchResults): string[] {
  const notes: string[] = []
  for (const name of RELAY_NAMES) {
    const relay = results.relays[name]
    for (const [phase, result] of [['reservations', relay.reservations], ['circuits', relay.circuits]] as const) {
      if (result === undefined) {
        continue
      }
      const title = `${RELAY_TITLES[name]}, ${phase}`
      if (result.error !== undefined) {
        notes.push(`${title}: phase stopped: ${result.error}`)
      }
      for (const [kind, count] of Object.entries(result.failures?.counts ?? {})) {
        notes.push(`${title}: ${count.toLocaleString('en-US')} x ${kind} (e.g. ${result.failures?.examples[kind] ?? '?'})`)
      }
      if (result.relay.stderrTail !== undefined && result.relay.stderrTail.length > 0) {
        notes.push(`${title}: relay stderr: ${result.relay.stderrTail.join(' | ')}`)
      }
    }
  }
  return notes
}
