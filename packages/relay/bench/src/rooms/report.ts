/**
 * The table `pnpm bench:rooms` prints: every figure of the fleet beside the single
 * relay's, then per relay its members and memory, Redis's idle calls by command,
 * and each setup's failures by kind with one example. Missing figures (a setup
 * that stopped early, or one without Redis) show as "-".
 */
import { SETUP_NAMES, SETUP_TITLES } from './results.js'
import type { Percentiles, RoomsBenchResults, SetupResult, SplitLatency } from './results.js'
import { fixed, integer, kib, mib, type Cell } from '../format.js'


interface Row {
  label: string
  cell: (setup: SetupResult) => Cell
}


/** "p50 / p99" in ms; sub-10 ms values with a decimal, as loopback latencies are. */
function latency (value: Percentiles | undefined): Cell {
  if (value === undefined) {
    return undefined
  }
  const ms = (x: number): string => x < 10 ? x.toFixed(1) : x.toFixed(0)
  return `${ms(value.p50)} / ${ms(value.p99)}`
}

function side (pick: (setup: SetupResult) => SplitLatency | undefined, which: 'same' | 'other'): (setup: SetupResult) => Cell {
  return setup => latency(pick(setup)?.[which])
}

function sumOf (setup: SetupResult, pick: (relay: SetupResult['relays'][number]) => number | undefined): number | undefined {
  const values = setup.relays.map(pick)
  return values.length === 0 || values.some(value => value === undefined) ? undefined : values.reduce<number>((total, value) => total + (value ?? 0), 0)
}

function alive (setup: SetupResult): Cell {
  if (setup.relays.length === 0) {
    return undefined
  }
  const up = setup.relays.filter(relay => relay.outcome.aliveAtEnd === true).length
  const redis = setup.redis === undefined ? '' : `, Redis ${setup.redis.aliveAtEnd === true ? 'yes' : 'NO'}`
  return `${up} of ${setup.relays.length}${redis}`
}

function views (check: SetupResult['checkAfterJoin']): Cell {
  return check === undefined ? undefined : `${check.completeViews.toLocaleString('en-US')} of ${check.joined.toLocaleString('en-US')}`
}

const SECTIONS: ReadonlyArray<{ title: (results: RoomsBenchResults) => string, rows: Row[] }> = [
  {
    title: results => `Members (${results.sizes.members.toLocaleString('en-US')} in ${results.sizes.rooms} rooms of ${results.sizes.roomSize})`,
    rows: [
      { label: 'connected and reserved', cell: s => integer(s.connected) },
      { label: 'joined', cell: s => integer(s.joined) },
      { label: 'refused by a relay', cell: s => integer(s.refused) },
      { label: 'client errors', cell: s => integer(s.errors) },
      { label: 'connect + reserve, all (s)', cell: s => fixed(s.connectSeconds, 1) },
      { label: 'join, all (s)', cell: s => fixed(s.joinSeconds, 1) },
      { label: 'complete views after join', cell: s => views(s.checkAfterJoin) },
      { label: 'complete views after idle', cell: s => views(s.checkAfterIdle) },
      { label: 'JOIN streams lost', cell: s => integer(s.checkAfterIdle?.lostStreams) },
      { label: 'relays alive at end', cell: alive }
    ]
  },
  {
    title: () => 'While all join, p50 / p99 (ms)',
    rows: [
      { label: 'JOIN -> own SNAPSHOT', cell: s => latency(s.snapshotMs) },
      { label: 'JOIN -> JOINED, same relay', cell: side(s => s.joinVisibleMs, 'same') },
      { label: 'JOIN -> JOINED, other relay', cell: side(s => s.joinVisibleMs, 'other') },
      { label: 'JOINED never seen', cell: s => integer(s.joinMissed) }
    ]
  },
  {
    title: results => `Steady state, ${results.sizes.probes} probe cycles, p50 / p99 (ms)`,
    rows: [
      { label: 'JOIN -> JOINED, same relay', cell: side(s => s.probes?.join, 'same') },
      { label: 'JOIN -> JOINED, other relay', cell: side(s => s.probes?.join, 'other') },
      { label: 'stream closed -> LEFT, same relay', cell: side(s => s.probes?.leaveClose, 'same') },
      { label: 'stream closed -> LEFT, other relay', cell: side(s => s.probes?.leaveClose, 'other') },
      { label: 'connection killed -> LEFT, same relay', cell: side(s => s.probes?.leaveKill, 'same') },
      { label: 'connection killed -> LEFT, other relay', cell: side(s => s.probes?.leaveKill, 'other') },
      { label: 'observer pairs timed (join/close/kill)', cell: s => s.probes === undefined ? undefined : [s.probes.join, s.probes.leaveClose, s.probes.leaveKill].map(l => (l.same?.count ?? 0) + (l.other?.count ?? 0)).join(' / ') },
      { label: 'events not seen in 10 s', cell: s => s.probes === undefined ? undefined : integer(s.probes.missed.join + s.probes.missed.leaveClose + s.probes.missed.leaveKill) }
    ]
  },
  {
    title: () => 'Memory',
    rows: [
      { label: 'relay RSS idle, all relays (MiB)', cell: s => mib(sumOf(s, r => r.rssIdleBytes)) },
      { label: 'relay RSS reserved (MiB)', cell: s => mib(sumOf(s, r => r.rssReservedBytes)) },
      { label: 'relay RSS joined (MiB)', cell: s => mib(sumOf(s, r => r.rssJoinedBytes)) },
      { label: 'RSS per member, all of it (KiB)', cell: s => kib(s.rssPerMemberBytes) },
      { label: 'RSS per membership alone (KiB)', cell: s => kib(s.rssPerMembershipBytes) },
      { label: 'Redis memory per member (KiB)', cell: s => kib(s.redisMemoryPerMemberBytes) }
    ]
  },
  {
    title: results => `Idle, ${(results.sizes.idleMs / 1000).toFixed(0)} s window scaled to a minute`,
    rows: [
      { label: 'relay CPU, all relays (% core)', cell: s => fixed(s.relayIdleCpuPercent, 1) },
      { label: 'relay CPU per member-minute (ms)', cell: s => fixed(s.relayCpuMsPerMemberMinute, 2) },
      { label: 'Redis commands per member-minute', cell: s => fixed(s.redisCommandsPerMemberMinute, 1) },
      { label: 'redis-server CPU per member-minute (ms)', cell: s => fixed(s.redisCpuMsPerMemberMinute, 2) }
    ]
  },
  {
    title: () => 'Redis commands per member, refresh rounds in the phase included',
    rows: [
      { label: 'while all connect and reserve', cell: s => fixed(s.redisCommandsReservingPerMember, 1) },
      { label: 'while all join', cell: s => fixed(s.redisCommandsJoiningPerMember, 1) }
    ]
  }
]

function loadText (results: RoomsBenchResults): string {
  return results.machine.load.map(sample => `${sample.at} ${sample.load.map(value => value.toFixed(2)).join('/')}`).join('; ')
}

export function formatTable (results: RoomsBenchResults): string {
  const setups = SETUP_NAMES.filter(name => results.setups[name] !== undefined)
  const header = ['', ...setups.map(name => SETUP_TITLES[name])]
  const lines: string[][] = []
  const sectionRows = new Set<number>()
  for (const section of SECTIONS) {
    sectionRows.add(lines.length)
    lines.push([section.title(results)])
    for (const row of section.rows) {
      lines.push([`  ${row.label}`, ...setups.map(name => {
        const setup = results.setups[name]
        return (setup === undefined ? undefined : row.cell(setup)) ?? '-'
      })])
    }
  }
  const widths = header.map((title, column) => Math.max(title.length, ...lines.filter((_, i) => !sectionRows.has(i)).map(line => (line[column] ?? '').length)))
  const render = (line: string[]): string => line.map((cell, column) => column === 0 ? cell.padEnd(widths[0] ?? 0) : cell.padStart(widths[column] ?? 0)).join('   ')
  const rule = widths.map(width => '-'.repeat(width)).join('   ')
  const out = [
    `Rooms, ${results.mode} run, ${results.date} (${results.machine.cpus} x ${results.machine.cpuModel}, Node ${results.machine.node}${results.machine.redis === undefined ? '' : `, ${results.machine.redis.replace(/ sha=.*$/, '')}`})`,
    `Relay built from ${results.relaySource === undefined ? 'an unknown commit' : `${results.relaySource.commit}${results.relaySource.dirty ? ' with uncommitted changes in packages/relay/src' : ''}`}`,
    `Load average (1/5/15 min): ${loadText(results)}`,
    '',
    render(header),
    rule,
    ...lines.map((line, index) => sectionRows.has(index) ? line[0] ?? '' : render(line))
  ]
  out.push('', ...relayNotes(results), ...failureNotes(results))
  if (results.incomplete !== undefined) {
    out.push('', `INCOMPLETE: ${results.incomplete}`)
  }
  return `${out.join('\n')}\n`
}

/** Per relay: members, RSS at each step, idle CPU; Redis's idle calls by command. */
function relayNotes (results: RoomsBenchResults): string[] {
  const notes: string[] = []
  for (const name of SETUP_NAMES) {
    const setup = results.setups[name]
    if (setup === undefined) {
      continue
    }
    setup.relays.forEach((relay, i) => {
      notes.push(`${SETUP_TITLES[name]}, relay ${i + 1}: ${relay.joined ?? '-'} of ${relay.members} members joined; RSS idle ${mib(relay.rssIdleBytes) ?? '-'}, reserved ${mib(relay.rssReservedBytes) ?? '-'}, joined ${mib(relay.rssJoinedBytes) ?? '-'}, after idle ${mib(relay.rssAfterIdleBytes) ?? '-'}, peak ${mib(relay.peakRssBytes) ?? '-'} MiB; idle CPU ${fixed(relay.idleCpuSeconds, 2) ?? '-'} s`)
    })
    const calls = setup.redis?.idleCalls
    if (calls !== undefined) {
      const listed = Object.entries(calls).sort(([, a], [, b]) => b - a).map(([command, count]) => `${command} ${count.toLocaleString('en-US')}`)
      notes.push(`${SETUP_TITLES[name]}, Redis calls in the idle window (Lua's included): ${listed.join(', ') || 'none'}`)
    }
  }
  return notes
}

/** Per setup: every failure kind with its count and one example, a stop, and what a relay said on stderr. */
function failureNotes (results: RoomsBenchResults): string[] {
  const notes: string[] = []
  for (const name of SETUP_NAMES) {
    const setup = results.setups[name]
    if (setup === undefined) {
      continue
    }
    const title = SETUP_TITLES[name]
    if (setup.error !== undefined) {
      notes.push(`${title}: stopped: ${setup.error}`)
    }
    for (const [kind, count] of Object.entries(setup.failures?.counts ?? {})) {
      notes.push(`${title}: ${count.toLocaleString('en-US')} x ${kind} (e.g. ${setup.failures?.examples[kind] ?? '?'})`)
    }
    setup.relays.forEach((relay, i) => {
      if (relay.outcome.crashed !== undefined) {
        notes.push(`${title}, relay ${i + 1}: CRASHED (${relay.outcome.crashed})`)
      }
      if (relay.outcome.stderrTail !== undefined && relay.outcome.stderrTail.length > 0) {
        notes.push(`${title}, relay ${i + 1} stderr: ${relay.outcome.stderrTail.join(' | ')}`)
      }
    })
    if (setup.redis?.outputTail !== undefined) {
      notes.push(`${title}: redis-server ended early: ${setup.redis.outputTail.join(' | ')}`)
    }
  }
  return notes
}
