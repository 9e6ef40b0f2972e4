/**
 * `pnpm bench:rooms [--quick]`: what rooms cost a fleet of lifeline-relays sharing
 * one Redis, beside the same members on one relay with its directory in memory, in
 * one run on this machine. See ../../BENCH.md ("Rooms").
 *
 * Each setup gets fresh processes: a redis-server (the fleet only), its relays
 * (the `lifeline-relay` CLI, defaults but --redis), and client workers holding
 * whole rooms of members. Phases, each bounded in time:
 *   1. connect: every member dials its relay from one of 40 loopback addresses and
 *      reserves a slot, paced under the relay's default connection rate;
 *   2. join: every member joins its room; JOIN -> own SNAPSHOT and JOIN -> each
 *      observer's JOINED are timed while all join;
 *   3. idle: nothing happens for the idle window while Redis commands, relay CPU
 *      and redis-server CPU are counted;
 *   4. probes: one member at a time per worker closes its JOIN stream, joins again
 *      and has its connection killed, each timed to every observer's LEFT or JOINED.
 *
 * Failures, refusals and dead processes are results, counted and printed; only the
 * watchdog stops the bench early. The table goes to stdout, progress to stderr,
 * everything to bench-rooms-results.json at the repository root. Every process the
 * bench starts runs in its own process group and is killed on every way out.
 */
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { RelayProcess, Worker, cleanUpOnExit, killAll } from '../processes.js'
import { Tally } from '../tally.js'
import {
  ANSWER_SLACK_MS, CHECK_TIMEOUT_MS, CONCURRENCY_TOTAL, CONNECT_BUDGET_MS, CONNECT_RATE_PER_RELAY, EVENT_TIMEOUT_MS,
  FLEET_RELAYS, FULL_SIZES, IDLE_SETTLE_MS, JOIN_BUDGET_MS, JOIN_SETTLE_MS, OPERATION_TIMEOUT_MS, PROBE_BUDGET_MS,
  QUICK_SIZES, ROOM_NAMESPACE, SOURCE_ADDRESSES, STEADY_SETTLE_MS, WATCHDOG_MS, WORKER_PREPARE_TIMEOUT_MS,
  type RoomsBenchSizes
} from './constants.js'
import { RedisProcess, callsBetween, type RedisCounters } from './redis.js'
import { formatTable } from './report.js'
import { SETUP_NAMES, SETUP_TITLES, type Percentiles, type RoomsBenchResults, type SetupName, type SetupResult, type SplitLatency, type ViewCheck } from './results.js'
import type { Answer, AnswerKind, FromWorker, MemberSpec, Samples, ToWorker } from './messages.js'

const DIST_DIR = dirname(fileURLToPath(import.meta.url))
const RELAY_CLI = fileURLToPath(new URL('../../../dist/cli.js', import.meta.url))
const WORKER_SCRIPT = join(DIST_DIR, 'worker.js')
const RESULTS_FILE = fileURLToPath(new URL('../../../../../bench-rooms-results.json', import.meta.url))
const REPO_DIR = fileURLToPath(new URL('../../../../../', import.meta.url))

/** lifeline-relay's one expected stderr line when it starts with a new key file. */
const KEY_CREATED = /^lifeline-relay: created a new key in /

type RoomsWorker = Worker<ToWorker, FromWorker>

/** The temporary directory (relay keys), removed on every way out. */
let tmpDir: string | undefined

const USAGE = `Usage: pnpm bench:rooms [--quick]

What rooms cost a fleet of 3 lifeline-relays sharing one Redis, beside one relay with
its directory in memory: JOIN and LEAVE latencies to observers on the same and other
relays, relay RSS per member, Redis commands and CPU per member-minute when idle.
--quick (or BENCH_ROOMS_QUICK=1) runs a small size for working on the bench.
Sizes: BENCH_ROOMS_MEMBERS (default ${FULL_SIZES.members}), BENCH_ROOMS_ROOM_SIZE (${FULL_SIZES.roomSize}),
BENCH_ROOMS_WORKERS (${FULL_SIZES.workers}), BENCH_ROOMS_PROBES (${FULL_SIZES.probes}), BENCH_ROOMS_IDLE_SECONDS (${FULL_SIZES.idleMs / 1000}).
BENCH_ROOMS_SETUPS=fleet (or single) runs one setup only.
Table on stdout, progress on stderr, JSON in bench-rooms-results.json.
`

function progress (text: string): void {
  process.stderr.write(`[bench:rooms] ${text}\n`)
}

function delay (ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

function message (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

function percentiles (values: number[]): Percentiles | undefined {
  if (values.length === 0) {
    return undefined
  }
  const sorted = [...values].sort((a, b) => a - b)
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? Number.NaN }
}

function split (samples: Samples[]): SplitLatency {
  return { same: percentiles(samples.flatMap(s => s.same)), other: percentiles(samples.flatMap(s => s.other)) }
}

function sum (values: Array<number | undefined>): number | undefined {
  return values.some(value => value === undefined) ? undefined : values.reduce<number>((total, value) => total + (value ?? 0), 0)
}

/** A positive integer from the environment, or `fallback`. */
function envInteger (name: string, fallback: number): number {
  const text = process.env[name]
  if (text === undefined || text === '') {
    return fallback
  }
  const value = Number(text)
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new Error(`${name} must be a positive integer, got ${text}`)
  }
  return value
}

function chosenSizes (quick: boolean): RoomsBenchSizes {
  const base = quick ? QUICK_SIZES : FULL_SIZES
  return {
    members: envInteger('BENCH_ROOMS_MEMBERS', base.members),
    roomSize: envInteger('BENCH_ROOMS_ROOM_SIZE', base.roomSize),
    workers: envInteger('BENCH_ROOMS_WORKERS', base.workers),
    probes: envInteger('BENCH_ROOMS_PROBES', base.probes),
    idleMs: envInteger('BENCH_ROOMS_IDLE_SECONDS', base.idleMs / 1000) * 1000
  }
}

function chosenSetups (): SetupName[] {
  const chosen = (process.env.BENCH_ROOMS_SETUPS ?? '').split(',').filter(name => name !== '')
  const unknown = chosen.filter(name => !(SETUP_NAMES as readonly string[]).includes(name))
  if (unknown.length > 0) {
    throw new Error(`BENCH_ROOMS_SETUPS: no setup ${unknown.join(', ')} (there are ${SETUP_NAMES.join(', ')})`)
  }
  return SETUP_NAMES.filter(name => chosen.length === 0 || chosen.includes(name))
}

/**
 * Members by worker. Member g is in room floor(g / roomSize); a room's members go
 * round robin over the relays, starting one relay further for each room, so every
 * relay holds a third of each room and of all members; whole rooms go to one worker.
 */
function assign (sizes: RoomsBenchSizes, relays: number): MemberSpec[][] {
  const byWorker: MemberSpec[][] = Array.from({ length: sizes.workers }, () => [])
  for (let g = 0; g < sizes.members; g++) {
    const room = Math.floor(g / sizes.roomSize)
    const spec: MemberSpec = { room, relay: (room + g % sizes.roomSize) % relays, source: `127.0.0.${2 + g % SOURCE_ADDRESSES}` }
    byWorker[room % sizes.workers]?.push(spec)
  }
  return byWorker.filter(specs => specs.length > 0)
}

/** The relay as deployed: every default, but a free port, its own key and, in the fleet, the shared Redis. */
function relayArgs (keyFile: string, redisUrl: string | undefined): string[] {
  return [RELAY_CLI, '--host', '127.0.0.1', '--port', '0', '--key', keyFile, ...(redisUrl === undefined ? [] : ['--redis', redisUrl])]
}

/** Sends `command` to every worker; answers of those that answered, the others counted with all their members. */
async function askAll<K extends AnswerKind> (workers: Array<{ worker: RoomsWorker, members: number }>, command: ToWorker, kind: K, timeoutMs: number, tally: Tally): Promise<Array<Answer<K>>> {
  const answers = await Promise.allSettled(workers.map(async ({ worker }) => worker.ask(command, kind, timeoutMs)))
  const answered: Array<Answer<K>> = []
  for (const [i, answer] of answers.entries()) {
    if (answer.status === 'fulfilled') {
      answered.push(answer.value)
    } else {
      tally.add(`worker lost during ${command.kind}`, message(answer.reason), workers[i]?.members ?? 0)
    }
  }
  return answered
}

async function check (workers: Array<{ worker: RoomsWorker, members: number }>, tally: Tally): Promise<ViewCheck> {
  const answers = await askAll(workers, { kind: 'check' }, 'checked', CHECK_TIMEOUT_MS, tally)
  const joinedPerRelay: number[] = []
  for (const answer of answers) {
    answer.joinedPerRelay.forEach((count, relay) => { joinedPerRelay[relay] = (joinedPerRelay[relay] ?? 0) + count })
  }
  return {
    connected: answers.reduce((total, a) => total + a.connected, 0),
    joined: answers.reduce((total, a) => total + a.joined, 0),
    completeViews: answers.reduce((total, a) => total + a.completeViews, 0),
    lostStreams: answers.reduce((total, a) => total + a.lostStreams, 0),
    joinedPerRelay: Array.from({ length: joinedPerRelay.length }, (_, relay) => joinedPerRelay[relay] ?? 0)
  }
}

function marker (load: RoomsBenchResults['machine']['load']): (at: string) => void {
  return (at) => { load.push({ at, load: loadavg().map(value => Math.round(value * 100) / 100) }) }
}

async function runSetup (name: SetupName, sizes: RoomsBenchSizes, tmp: string, mark: (at: string) => void): Promise<SetupResult> {
  const title = SETUP_TITLES[name]
  const relayCount = name === 'fleet' ? FLEET_RELAYS : 1
  const specs = assign(sizes, relayCount)
  const result: SetupResult = { relays: [], members: sizes.members }
  const tally = new Tally()
  const relays: RelayProcess[] = []
  let redis: RedisProcess | undefined
  let workers: Array<{ worker: RoomsWorker, members: number }> = []
  const perWorker = Math.max(1, Math.ceil(CONCURRENCY_TOTAL / specs.length))
  const rss = (field: 'rssIdleBytes' | 'rssReservedBytes' | 'rssJoinedBytes' | 'rssAfterIdleBytes'): void => {
    relays.forEach((relay, i) => {
      const figures = result.relays[i]
      if (figures !== undefined) {
        figures[field] = relay.stats()?.rss
      }
    })
  }
  const counters = async (): Promise<RedisCounters | undefined> => redis === undefined ? undefined : redis.counters().catch(() => undefined)
  try {
    mark(`${name}: start`)
    if (name === 'fleet') {
      progress(`${title}: starting redis-server`)
      redis = await RedisProcess.start()
      result.redis = { command: redis.command }
    }
    progress(`${title}: starting ${relayCount} relay${relayCount > 1 ? 's' : ''}`)
    const addrs: string[] = []
    for (let i = 0; i < relayCount; i++) {
      const command = relayArgs(join(tmp, `${name}-${i}.key`), redis?.url)
      result.relays.push({ command, members: specs.flat().filter(spec => spec.relay === i).length, outcome: {} })
      const started = await RelayProcess.start(command)
      relays.push(started.relay)
      addrs.push(started.multiaddr)
    }
    await delay(IDLE_SETTLE_MS)
    rss('rssIdleBytes')
    const idleCounters = await counters()
    if (result.redis !== undefined) {
      result.redis.usedMemoryIdleBytes = idleCounters?.usedMemory
    }

    const all = specs.map(members => ({ worker: new Worker<ToWorker, FromWorker>(WORKER_SCRIPT), members }))
    const prepared = await Promise.allSettled(all.map(async ({ worker, members }) => worker.ask({
      kind: 'prepare', relays: addrs, members, namespace: ROOM_NAMESPACE, connectIntervalMs: 1000 * all.length / CONNECT_RATE_PER_RELAY
    }, 'prepared', WORKER_PREPARE_TIMEOUT_MS)))
    workers = all.filter((_, i) => prepared[i]?.status === 'fulfilled').map(({ worker, members }) => ({ worker, members: members.length }))
    for (const [i, answer] of prepared.entries()) {
      if (answer.status === 'rejected') {
        tally.add('worker failed to start', message(answer.reason), all[i]?.members.length ?? 0)
      }
    }

    mark(`${name}: connect`)
    progress(`${title}: ${workers.length} workers ready; ${sizes.members} members connecting and reserving, ${CONNECT_RATE_PER_RELAY}/s per relay at most`)
    let started = performance.now()
    const connected = await askAll(workers, { kind: 'connect', concurrency: perWorker, budgetMs: CONNECT_BUDGET_MS, timeoutMs: OPERATION_TIMEOUT_MS }, 'connected', CONNECT_BUDGET_MS + OPERATION_TIMEOUT_MS + ANSWER_SLACK_MS, tally)
    result.connectSeconds = (performance.now() - started) / 1000
    connected.forEach(answer => { tally.merge(answer.failures) })
    result.connected = connected.reduce((total, answer) => total + answer.ok, 0)
    const reservedCounters = await counters()
    rss('rssReservedBytes')
    progress(`${title}: ${result.connected} reserved in ${result.connectSeconds.toFixed(1)} s; joining rooms of ${sizes.roomSize}`)

    mark(`${name}: join`)
    started = performance.now()
    const joined = await askAll(workers, { kind: 'join', concurrency: perWorker, budgetMs: JOIN_BUDGET_MS, timeoutMs: OPERATION_TIMEOUT_MS, settleMs: JOIN_SETTLE_MS }, 'joined', JOIN_BUDGET_MS + OPERATION_TIMEOUT_MS + JOIN_SETTLE_MS + ANSWER_SLACK_MS, tally)
    result.joinSeconds = (performance.now() - started) / 1000
    joined.forEach(answer => { tally.merge(answer.failures) })
    result.joined = joined.reduce((total, answer) => total + answer.ok, 0)
    result.snapshotMs = percentiles(joined.flatMap(answer => answer.snapshotMs))
    result.joinVisibleMs = split(joined.map(answer => answer.visibleMs))
    result.joinMissed = joined.reduce((total, answer) => total + answer.missed, 0)
    const joinedCounters = await counters()
    progress(`${title}: ${result.joined} joined in ${result.joinSeconds.toFixed(1)} s; settling ${STEADY_SETTLE_MS / 1000} s`)
    await delay(STEADY_SETTLE_MS)
    rss('rssJoinedBytes')
    const afterJoin = await check(workers, tally)
    result.checkAfterJoin = afterJoin
    afterJoin.joinedPerRelay.forEach((count, i) => {
      const figures = result.relays[i]
      if (figures !== undefined) {
        figures.joined = count
      }
    })
    if (result.redis !== undefined) {
      result.redis.connectCommands = delta(idleCounters, reservedCounters)
      result.redis.joinCommands = delta(reservedCounters, joinedCounters)
      result.redis.usedMemoryJoinedBytes = (await counters())?.usedMemory
    }

    mark(`${name}: idle window`)
    progress(`${title}: ${afterJoin.joined} members joined, ${afterJoin.completeViews} with a complete view; idle window of ${sizes.idleMs / 1000} s`)
    const cpuBefore = relays.map(relay => relay.cpuSeconds())
    const redisCpuBefore = redis?.cpuSeconds()
    const windowBefore = await counters()
    started = performance.now()
    await delay(sizes.idleMs)
    const windowAfter = await counters()
    const redisCpuAfter = redis?.cpuSeconds()
    const cpuAfter = relays.map(relay => relay.cpuSeconds())
    result.idleSeconds = (performance.now() - started) / 1000
    relays.forEach((_, i) => {
      const figures = result.relays[i]
      const before = cpuBefore[i]
      const after = cpuAfter[i]
      if (figures !== undefined && before !== undefined && after !== undefined) {
        figures.idleCpuSeconds = after - before
      }
    })
    rss('rssAfterIdleBytes')
    if (result.redis !== undefined && windowBefore !== undefined && windowAfter !== undefined) {
      result.redis.idleCommands = windowAfter.totalCommands - windowBefore.totalCommands
      result.redis.idleCalls = callsBetween(windowBefore, windowAfter)
      if (redisCpuBefore !== undefined && redisCpuAfter !== undefined) {
        result.redis.idleCpuSeconds = redisCpuAfter - redisCpuBefore
      }
    }
    result.checkAfterIdle = await check(workers, tally)

    mark(`${name}: probes`)
    const perWorkerProbes = Math.ceil(sizes.probes / Math.max(1, workers.length))
    progress(`${title}: probing: ${perWorkerProbes * workers.length} cycles of close, join, kill and rejoin, one at a time per worker`)
    const probed = await askAll(workers, { kind: 'probe', samples: perWorkerProbes, budgetMs: PROBE_BUDGET_MS, eventTimeoutMs: EVENT_TIMEOUT_MS, timeoutMs: OPERATION_TIMEOUT_MS }, 'probed', PROBE_BUDGET_MS + 4 * EVENT_TIMEOUT_MS + 2 * OPERATION_TIMEOUT_MS + ANSWER_SLACK_MS, tally)
    probed.forEach(answer => { tally.merge(answer.failures) })
    result.probes = {
      samples: probed.reduce((total, answer) => total + answer.samples, 0),
      join: split(probed.map(answer => answer.join)),
      leaveClose: split(probed.map(answer => answer.leaveClose)),
      leaveKill: split(probed.map(answer => answer.leaveKill)),
      missed: {
        join: probed.reduce((total, answer) => total + answer.missed.join, 0),
        leaveClose: probed.reduce((total, answer) => total + answer.missed.leaveClose, 0),
        leaveKill: probed.reduce((total, answer) => total + answer.missed.leaveKill, 0)
      }
    }
    progress(`${title}: ${result.probes.samples} probe cycles done`)
  } catch (err: unknown) {
    result.error = message(err)
    progress(`${title}: stopped: ${result.error}`)
  } finally {
    await finishSetup(result, workers, relays, redis)
    result.refused = tally.refused
    result.errors = tally.errors
    result.failures = tally.failures
  }
  derive(result)
  return result
}

function delta (before: RedisCounters | undefined, after: RedisCounters | undefined): number | undefined {
  return before === undefined || after === undefined ? undefined : after.totalCommands - before.totalCommands
}

/** Stops the workers first (the relays see every member leave), then reads how each relay fared and stops it, then Redis. */
async function finishSetup (result: SetupResult, workers: Array<{ worker: RoomsWorker }>, relays: RelayProcess[], redis: RedisProcess | undefined): Promise<void> {
  await Promise.all(workers.map(async ({ worker }) => { await worker.stop() }))
  await Promise.all(relays.map(async (relay, i) => {
    const figures = result.relays[i]
    if (figures === undefined) {
      return
    }
    figures.peakRssBytes = relay.stats()?.peakRss
    figures.outcome.aliveAtEnd = relay.alive
    if (relay.exit !== undefined) {
      figures.outcome.crashed = relay.exit.signal ?? `exit code ${relay.exit.code ?? '?'}`
    }
    if (relay.alive) {
      figures.outcome.stoppedCleanly = await relay.stop()
    }
    const said = relay.stderr.filter(line => !KEY_CREATED.test(line))
    if (said.length > 0) {
      figures.outcome.stderrTail = said
    }
  }))
  if (redis !== undefined && result.redis !== undefined) {
    result.redis.aliveAtEnd = redis.alive
    if (!redis.alive) {
      result.redis.outputTail = redis.output
    }
    await redis.stop()
  }
}

/** The per-member figures, from what was measured. */
function derive (result: SetupResult): void {
  const joined = sum(result.relays.map(relay => relay.joined)) ?? 0
  if (joined === 0) {
    return
  }
  const rssGrowth = sum(result.relays.map(relay => relay.rssJoinedBytes === undefined || relay.rssIdleBytes === undefined ? undefined : relay.rssJoinedBytes - relay.rssIdleBytes))
  const membershipGrowth = sum(result.relays.map(relay => relay.rssJoinedBytes === undefined || relay.rssReservedBytes === undefined ? undefined : relay.rssJoinedBytes - relay.rssReservedBytes))
  result.rssPerMemberBytes = rssGrowth === undefined ? undefined : rssGrowth / joined
  result.rssPerMembershipBytes = membershipGrowth === undefined ? undefined : membershipGrowth / joined
  const idleCpu = sum(result.relays.map(relay => relay.idleCpuSeconds))
  const minutes = result.idleSeconds === undefined ? undefined : result.idleSeconds / 60
  if (idleCpu !== undefined && minutes !== undefined && result.idleSeconds !== undefined) {
    result.relayIdleCpuPercent = 100 * idleCpu / result.idleSeconds
    result.relayCpuMsPerMemberMinute = 1000 * idleCpu / joined / minutes
  }
  const redis = result.redis
  if (redis === undefined) {
    return
  }
  if (redis.idleCommands !== undefined && minutes !== undefined) {
    result.redisCommandsPerMemberMinute = redis.idleCommands / joined / minutes
  }
  if (redis.idleCpuSeconds !== undefined && minutes !== undefined) {
    result.redisCpuMsPerMemberMinute = 1000 * redis.idleCpuSeconds / joined / minutes
  }
  if (redis.joinCommands !== undefined && result.joined !== undefined && result.joined > 0) {
    result.redisCommandsJoiningPerMember = redis.joinCommands / result.joined
  }
  if (redis.connectCommands !== undefined && result.connected !== undefined && result.connected > 0) {
    result.redisCommandsReservingPerMember = redis.connectCommands / result.connected
  }
  if (redis.usedMemoryJoinedBytes !== undefined && redis.usedMemoryIdleBytes !== undefined) {
    result.redisMemoryPerMemberBytes = (redis.usedMemoryJoinedBytes - redis.usedMemoryIdleBytes) / joined
  }
}

function report (results: RoomsBenchResults): void {
  marker(results.machine.load)('end')
  process.stdout.write(formatTable(results))
  try {
    writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`)
    progress(`wrote ${RESULTS_FILE}`)
  } catch (err: unknown) {
    progress(`could not write ${RESULTS_FILE}: ${message(err)}`)
  }
}

/** The commit the relay is built from; its source may change under a bench (someone editing). */
function relaySource (): { commit: string, dirty: boolean } | undefined {
  try {
    const git = (...args: string[]): string => execFileSync('git', args, { cwd: REPO_DIR, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    return { commit: git('rev-parse', '--short', 'HEAD'), dirty: git('status', '--porcelain', '--', 'packages/relay/src') !== '' }
  } catch {
    return undefined
  }
}

function redisVersion (): string | undefined {
  try {
    return execFileSync('redis-server', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return undefined
  }
}

async function main (): Promise<number> {
  const args = process.argv.slice(2)
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE)
    return 0
  }
  const unknown = args.filter(arg => arg !== '--quick')
  if (unknown.length > 0) {
    process.stderr.write(`bench:rooms: unknown argument ${unknown.join(' ')}\n${USAGE}`)
    return 2
  }
  const quick = args.includes('--quick') || process.env.BENCH_ROOMS_QUICK === '1'
  let sizes: RoomsBenchSizes
  let setups: SetupName[]
  try {
    sizes = chosenSizes(quick)
    setups = chosenSetups()
  } catch (err: unknown) {
    process.stderr.write(`bench:rooms: ${message(err)}\n${USAGE}`)
    return 2
  }
  const results: RoomsBenchResults = {
    date: new Date().toISOString(),
    relaySource: relaySource(),
    mode: quick ? 'quick' : 'full',
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryBytes: totalmem(),
      node: process.version,
      kernel: release(),
      redis: redisVersion(),
      load: []
    },
    sizes: {
      ...sizes,
      rooms: Math.ceil(sizes.members / sizes.roomSize),
      concurrency: CONCURRENCY_TOTAL,
      connectRatePerRelay: CONNECT_RATE_PER_RELAY,
      sourceAddresses: SOURCE_ADDRESSES
    },
    setups: {}
  }
  const mark = marker(results.machine.load)

  // Last resort: whatever still runs is killed and what was measured is reported.
  const watchdog = setTimeout(() => {
    progress(`watchdog: still running after ${WATCHDOG_MS / 60_000} min, killing everything`)
    killAll()
    results.incomplete = `stopped by the watchdog after ${WATCHDOG_MS / 60_000} min`
    report(results)
    process.exit(1)
  }, WATCHDOG_MS)

  const tmp = await mkdtemp(join(tmpdir(), 'lifeline-bench-rooms-'))
  tmpDir = tmp
  try {
    progress(`${results.mode} run: ${sizes.members} members in rooms of ${sizes.roomSize}, ${sizes.workers} client workers, ${sizes.probes} probe cycles, idle window ${sizes.idleMs / 1000} s; setups: ${setups.join(', ')}`)
    for (const name of setups) {
      results.setups[name] = await runSetup(name, sizes, tmp, mark)
    }
  } catch (err: unknown) {
    results.incomplete = `the bench failed: ${message(err)}`
  } finally {
    clearTimeout(watchdog)
    killAll()
    await rm(tmp, { recursive: true, force: true })
    tmpDir = undefined
  }
  report(results)
  return results.incomplete === undefined ? 0 : 1
}

cleanUpOnExit(() => tmpDir, progress)

process.exitCode = await main()
