/**
 * `pnpm bench:relay [--quick]`: the capacity of lifeline-relay beside a stock
 * js-libp2p Circuit Relay v2 server, in one run on this machine. See BENCH.md.
 *
 * Each phase gets a fresh relay process (so each starts from the same idle memory)
 * and fresh client workers; the relays take turns, never run at once:
 *   1. reservations: every client dials, handshakes and reserves, as fast as the
 *      workers can with bounded concurrency; then all are held while the relay's
 *      memory is read.
 *   2. circuits: pairs of clients, the listener reserves and the dialer opens a
 *      circuit to it through the relay; then every circuit pushes data both ways
 *      for a fixed time while the relay's memory and CPU are read.
 *
 * Refusals, client errors and a relay that crashes or is killed for memory are
 * results, counted and printed; the bench itself only stops early on its watchdog.
 * The table goes to stdout, progress to stderr, and everything to
 * bench-relay-results.json at the repository root (next to bench-results.json).
 * Every process the bench starts runs in its own process group and is killed on
 * every way out.
 */
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  CONCURRENCY_TOTAL, FULL_SIZES, HOLD_SETTLE_MS, IDLE_SETTLE_MS, LIMIT_HEADROOM, OPERATION_TIMEOUT_MS,
  PHASE_BUDGET_MS, PUSH_CHUNK_BYTES, QUICK_SIZES, RELAY_RSS_CAP_BYTES, RSS_SAMPLE_INTERVAL_MS, UNLIMITED_RATE,
  WATCHDOG_MS, WORKER_PREPARE_TIMEOUT_MS, type BenchSizes
} from './constants.js'
import { NODE_FLAGS, RelayProcess, Worker, cleanUpOnExit, killAll } from './processes.js'
import { formatTable } from './report.js'
import { Tally } from './tally.js'
import { RELAY_NAMES, RELAY_TITLES, type BenchResults, type CircuitResult, type Latency, type RelayName, type RelayOutcome, type ReservationResult } from './results.js'
import type { Answer, AnswerKind, ToWorker } from './messages.js'

const DIST_DIR = dirname(fileURLToPath(import.meta.url))
const RELAY_CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))
const STOCK_RELAY = join(DIST_DIR, 'stock-relay.js')
const WORKER_SCRIPT = join(DIST_DIR, 'worker.js')
const RESULTS_FILE = fileURLToPath(new URL('../../../../bench-relay-results.json', import.meta.url))
const REPO_DIR = fileURLToPath(new URL('../../../../', import.meta.url))

/** A worker answers a timed command within its budget plus this (IPC, a busy event loop). */
const ANSWER_SLACK_MS = 15_000
/** A worker counts its open connections in well under this. */
const CHECK_TIMEOUT_MS = 30_000
/**
 * lifeline-relay caps the memory all circuits may buffer (--circuit-buffer-budget,
 * default 1 GiB); each circuit may hold 2 x 256 KiB (CIRCUIT_WINDOW_BYTES, both
 * directions). The bench asks for twice what its circuits need so the cap is not
 * what it measures; the default already allows 2,048 circuits.
 */
const CIRCUIT_BUFFER_BYTES = 2 * 256 * 1024
const DEFAULT_CIRCUIT_BUFFER_BUDGET_BYTES = 1024 ** 3

/** lifeline-relay's one expected stderr line when it starts with a new key file. */
const KEY_CREATED = /^lifeline-relay: created a new key in /

/** The temporary directory (relay key), removed on every way out. */
let tmpDir: string | undefined

const USAGE = `Usage: pnpm bench:relay [--quick]

Capacity of lifeline-relay beside a stock js-libp2p circuit relay server: reservations
per second and held at once with the relay's memory, and concurrent circuits carrying
data. --quick (or BENCH_RELAY_QUICK=1) runs a small size for working on the bench.
Table on stdout, progress on stderr, JSON in bench-relay-results.json.
`

function progress (text: string): void {
  process.stderr.write(`[bench:relay] ${text}\n`)
}

function delay (ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

function message (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** `total` split over `parts` as evenly as whole numbers allow, empty parts left out. */
function split (total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0)).filter(n => n > 0)
}

function latency (values: number[]): Latency | undefined {
  if (values.length === 0) {
    return undefined
  }
  const sorted = [...values].sort((a, b) => a - b)
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
  return { p50: at(0.5), p95: at(0.95), max: sorted[sorted.length - 1] ?? Number.NaN }
}

function relayArgs (name: RelayName, keyFile: string, sizes: BenchSizes): string[] {
  const reservations = String(Math.max(sizes.reservations, sizes.circuits) * LIMIT_HEADROOM)
  const connections = String(Math.max(sizes.reservations, 2 * sizes.circuits) * LIMIT_HEADROOM)
  if (name === 'stock') {
    return [...NODE_FLAGS, STOCK_RELAY, '--max-reservations', reservations, '--max-connections', connections]
  }
  const budget = Math.max(DEFAULT_CIRCUIT_BUFFER_BUDGET_BYTES, sizes.circuits * CIRCUIT_BUFFER_BYTES * LIMIT_HEADROOM)
  return [
    RELAY_CLI, '--host', '127.0.0.1', '--port', '0', '--key', keyFile,
    '--max-reservations', reservations,
    '--max-reservations-per-ip', reservations,
    '--max-connections', connections,
    '--max-connections-per-ip', connections,
    '--max-pending', connections,
    '--max-pending-per-ip', connections,
    '--connection-rate', String(UNLIMITED_RATE),
    '--connection-rate-per-ip', String(UNLIMITED_RATE),
    '--circuit-buffer-budget', String(budget)
  ]
}

/** Samples the relay's RSS for its maximum, and kills the relay past RELAY_RSS_CAP_BYTES. */
class MemoryWatch {
  max = 0
  private readonly timer: ReturnType<typeof setInterval>

  constructor (private readonly relay: RelayProcess, private readonly title: string) {
    this.timer = setInterval(() => { this.sample() }, RSS_SAMPLE_INTERVAL_MS)
  }

  sample (): void {
    const rss = this.relay.stats()?.rss
    if (rss === undefined) {
      return
    }
    this.max = Math.max(this.max, rss)
    if (rss > RELAY_RSS_CAP_BYTES && !this.relay.killedForMemory) {
      progress(`${this.title}: relay RSS ${(rss / 1024 ** 3).toFixed(1)} GiB passed the ${(RELAY_RSS_CAP_BYTES / 1024 ** 3).toFixed(0)} GiB cap: killing it`)
      this.relay.killForMemory()
    }
  }

  /** Starts a new maximum from now. */
  reset (): void {
    this.max = 0
    this.sample()
  }

  stop (): void {
    clearInterval(this.timer)
  }
}

interface Client {
  worker: Worker
  /** Clients (reservations or pairs) this worker runs. */
  clients: number
}

/** Forks one worker per part and has each make its clients; a worker that fails is counted, not fatal. */
async function startWorkers (parts: number[], relay: string, mode: 'reservations' | 'circuits', tally: Tally): Promise<Client[]> {
  const all = parts.map(clients => ({ worker: new Worker(WORKER_SCRIPT), clients }))
  const nodes = (clients: number): number => mode === 'circuits' ? 2 * clients : clients
  const answers = await Promise.allSettled(all.map(async ({ worker, clients }) => worker.ask({ kind: 'prepare', relay, nodes: nodes(clients), mode }, 'prepared', WORKER_PREPARE_TIMEOUT_MS)))
  const ready: Client[] = []
  for (const [i, answer] of answers.entries()) {
    const client = all[i]
    if (client === undefined) {
      continue
    }
    if (answer.status === 'fulfilled') {
      ready.push(client)
    } else {
      tally.add('worker failed to start', message(answer.reason), client.clients)
      await client.worker.stop()
    }
  }
  return ready
}

/** Sends `command` to every worker; answers of those that answered, the others counted with all their clients. */
async function askAll<K extends AnswerKind> (clients: Client[], command: ToWorker, kind: K, timeoutMs: number, tally: Tally): Promise<Array<Answer<K>>> {
  const answers = await Promise.allSettled(clients.map(async ({ worker }) => worker.ask(command, kind, timeoutMs)))
  const answered: Array<Answer<K>> = []
  for (const [i, answer] of answers.entries()) {
    if (answer.status === 'fulfilled') {
      answered.push(answer.value)
    } else {
      tally.add(`worker lost during ${command.kind}`, message(answer.reason), clients[i]?.clients ?? 0)
    }
  }
  return answered
}

/** Each worker's share of CONCURRENCY_TOTAL. */
function perWorker (workers: number): number {
  return Math.max(1, Math.ceil(CONCURRENCY_TOTAL / Math.max(1, workers)))
}

function cpuPercent (before: number | undefined, after: number | undefined, seconds: number): number | undefined {
  return before === undefined || after === undefined ? undefined : 100 * (after - before) / seconds
}

/** Stops the workers first (the relay sees every client leave), then reads how the relay fared and stops it. */
async function finishPhase (relay: RelayProcess | undefined, clients: Client[], watch: MemoryWatch | undefined): Promise<{ outcome: RelayOutcome, peakRss: number | undefined }> {
  await Promise.all(clients.map(async ({ worker }) => { await worker.stop() }))
  watch?.stop()
  if (relay === undefined) {
    return { outcome: {}, peakRss: undefined }
  }
  const peakRss = relay.stats()?.peakRss
  const outcome: RelayOutcome = { aliveAtEnd: relay.alive }
  if (relay.killedForMemory) {
    outcome.killedForMemory = true
  } else if (relay.exit !== undefined) {
    outcome.crashed = relay.exit.signal ?? `exit code ${relay.exit.code ?? '?'}`
  }
  if (relay.alive) {
    outcome.stoppedCleanly = await relay.stop()
  }
  // whatever the relay said besides the note that it made its key: warnings and errors are findings
  const said = relay.stderr.filter(line => !KEY_CREATED.test(line))
  if (said.length > 0) {
    outcome.stderrTail = said
  }
  return { outcome, peakRss }
}

/** Starts a phase's relay and lets it settle; `finishPhase` stops it. */
async function startPhaseRelay (title: string, command: string[]): Promise<{ relay: RelayProcess, watch: MemoryWatch, multiaddr: string, rssIdleBytes: number | undefined }> {
  progress(`${title}: starting the relay`)
  const { relay, multiaddr } = await RelayProcess.start(command)
  const watch = new MemoryWatch(relay, title)
  await delay(IDLE_SETTLE_MS)
  return { relay, watch, multiaddr, rssIdleBytes: relay.stats()?.rss }
}

async function reservationPhase (name: RelayName, sizes: BenchSizes, keyFile: string, command: string[]): Promise<ReservationResult> {
  const title = `${RELAY_TITLES[name]}, reservations`
  const result: ReservationResult = { attempted: sizes.reservations, relay: {} }
  const tally = new Tally()
  let relay: RelayProcess | undefined
  let watch: MemoryWatch | undefined
  let clients: Client[] = []
  try {
    const started = await startPhaseRelay(title, command)
    ;({ relay, watch } = started)
    result.rssIdleBytes = started.rssIdleBytes

    clients = await startWorkers(split(sizes.reservations, sizes.workers), started.multiaddr, 'reservations', tally)
    progress(`${title}: ${clients.length} workers ready; ${sizes.reservations} clients reserving, ${CONCURRENCY_TOTAL} at a time`)
    const cpuBefore = relay.cpuSeconds()
    const start = performance.now()
    const answers = await askAll(clients, { kind: 'reserve', concurrency: perWorker(clients.length), budgetMs: PHASE_BUDGET_MS, timeoutMs: OPERATION_TIMEOUT_MS }, 'reserved', PHASE_BUDGET_MS + OPERATION_TIMEOUT_MS + ANSWER_SLACK_MS, tally)
    result.seconds = (performance.now() - start) / 1000
    const cpuAfter = relay.cpuSeconds()
    result.cpuPercent = cpuPercent(cpuBefore, cpuAfter, result.seconds)
    for (const answer of answers) {
      tally.merge(answer.failures)
    }
    result.granted = answers.reduce((sum, answer) => sum + answer.ok, 0)
    result.perSecond = result.granted / result.seconds
    if (cpuBefore !== undefined && cpuAfter !== undefined && result.granted > 0) {
      result.cpuMsPerReservation = 1000 * (cpuAfter - cpuBefore) / result.granted
    }
    result.latencyMs = latency(answers.flatMap(answer => answer.latenciesMs))
    progress(`${title}: ${result.granted} granted in ${result.seconds.toFixed(1)} s; holding them for ${HOLD_SETTLE_MS / 1000} s`)

    const holdCpuBefore = relay.cpuSeconds()
    const holdStart = performance.now()
    await delay(HOLD_SETTLE_MS)
    result.holdCpuPercent = cpuPercent(holdCpuBefore, relay.cpuSeconds(), (performance.now() - holdStart) / 1000)
    const checks = await askAll(clients, { kind: 'check' }, 'checked', CHECK_TIMEOUT_MS, tally)
    result.held = checks.reduce((sum, answer) => sum + answer.connected, 0)
    if (result.holdCpuPercent !== undefined && result.held > 0) {
      result.holdCpuMicrosecondsPerReservation = result.holdCpuPercent / 100 * 1e6 / result.held
    }
    result.rssHeldBytes = relay.stats()?.rss
    if (result.rssHeldBytes !== undefined && result.rssIdleBytes !== undefined && result.granted > 0) {
      result.rssPerReservationBytes = (result.rssHeldBytes - result.rssIdleBytes) / result.granted
    }
  } catch (err: unknown) {
    result.error = message(err)
    progress(`${title}: stopped: ${result.error}`)
  } finally {
    const { outcome, peakRss } = await finishPhase(relay, clients, watch)
    result.relay = outcome
    result.peakRssBytes = peakRss
    result.refused = tally.refused
    result.errors = tally.errors
    result.failures = tally.failures
  }
  return result
}

async function circuitPhase (name: RelayName, sizes: BenchSizes, keyFile: string, command: string[]): Promise<CircuitResult> {
  const title = `${RELAY_TITLES[name]}, circuits`
  const result: CircuitResult = { attempted: sizes.circuits, relay: {} }
  const tally = new Tally()
  let relay: RelayProcess | undefined
  let watch: MemoryWatch | undefined
  let clients: Client[] = []
  try {
    const started = await startPhaseRelay(title, command)
    ;({ relay, watch } = started)
    result.rssIdleBytes = started.rssIdleBytes

    clients = await startWorkers(split(sizes.circuits, sizes.workers), started.multiaddr, 'circuits', tally)
    progress(`${title}: ${clients.length} workers ready; opening ${sizes.circuits} circuits`)
    const start = performance.now()
    const opened = await askAll(clients, { kind: 'open', concurrency: perWorker(clients.length), budgetMs: PHASE_BUDGET_MS, timeoutMs: OPERATION_TIMEOUT_MS }, 'opened', PHASE_BUDGET_MS + 2 * OPERATION_TIMEOUT_MS + ANSWER_SLACK_MS, tally)
    result.openSeconds = (performance.now() - start) / 1000
    for (const answer of opened) {
      tally.merge(answer.failures)
    }
    result.reservations = opened.reduce((sum, answer) => sum + answer.reservations, 0)
    result.open = opened.reduce((sum, answer) => sum + answer.circuits, 0)
    result.openPerSecond = result.open / result.openSeconds
    result.latencyMs = latency(opened.flatMap(answer => answer.latenciesMs))
    result.rssOpenBytes = relay.stats()?.rss
    progress(`${title}: ${result.open} circuits open in ${result.openSeconds.toFixed(1)} s; pushing data both ways for ${sizes.pushMs / 1000} s`)

    watch.reset()
    const cpuBefore = relay.cpuSeconds()
    const pushStart = performance.now()
    const pushed = await askAll(clients, { kind: 'push', durationMs: sizes.pushMs, chunkBytes: PUSH_CHUNK_BYTES }, 'pushed', sizes.pushMs + ANSWER_SLACK_MS, tally)
    const pushWall = (performance.now() - pushStart) / 1000
    watch.sample()
    const cpuAfter = relay.cpuSeconds()
    result.cpuPercent = cpuPercent(cpuBefore, cpuAfter, pushWall)
    result.rssPushMaxBytes = watch.max
    result.rssAfterPushBytes = relay.stats()?.rss
    for (const answer of pushed) {
      tally.merge(answer.failures)
    }
    result.pushSeconds = sizes.pushMs / 1000
    result.bytesReceived = pushed.reduce((sum, answer) => sum + answer.bytesReceived, 0)
    result.circuitsBroken = pushed.reduce((sum, answer) => sum + answer.circuitsBroken, 0)
    result.megabytesPerSecond = result.bytesReceived / 1e6 / result.pushSeconds
    result.perCircuitMegabytesPerSecond = result.open > 0 ? result.megabytesPerSecond / result.open : undefined
    if (cpuBefore !== undefined && cpuAfter !== undefined && result.bytesReceived > 0) {
      result.cpuSecondsPerGigabyte = (cpuAfter - cpuBefore) / (result.bytesReceived / 1e9)
    }
    progress(`${title}: ${result.megabytesPerSecond.toFixed(1)} MB/s through ${result.open} circuits`)
  } catch (err: unknown) {
    result.error = message(err)
    progress(`${title}: stopped: ${result.error}`)
  } finally {
    const { outcome, peakRss } = await finishPhase(relay, clients, watch)
    result.relay = outcome
    result.peakRssBytes = peakRss
    result.refused = tally.refused
    result.errors = tally.errors
    result.failures = tally.failures
  }
  return result
}

function report (results: BenchResults): void {
  results.machine.loadAverage.end = loadavg()[0]
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

/** BENCH_RELAY_PHASES=circuits (or reservations) runs only that phase, for working on the bench. */
function chosenPhases (): Set<string> {
  const all = ['reservations', 'circuits']
  const chosen = (process.env.BENCH_RELAY_PHASES ?? '').split(',').filter(phase => phase !== '')
  const unknown = chosen.filter(phase => !all.includes(phase))
  if (unknown.length > 0) {
    throw new Error(`BENCH_RELAY_PHASES: no phase ${unknown.join(', ')} (there are ${all.join(', ')})`)
  }
  return new Set(chosen.length > 0 ? chosen : all)
}

async function main (): Promise<number> {
  const args = process.argv.slice(2)
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE)
    return 0
  }
  const unknown = args.filter(arg => arg !== '--quick')
  if (unknown.length > 0) {
    process.stderr.write(`bench:relay: unknown argument ${unknown.join(' ')}\n${USAGE}`)
    return 2
  }
  const quick = args.includes('--quick') || process.env.BENCH_RELAY_QUICK === '1'
  const sizes = quick ? QUICK_SIZES : FULL_SIZES
  const results: BenchResults = {
    date: new Date().toISOString(),
    relaySource: relaySource(),
    mode: quick ? 'quick' : 'full',
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryBytes: totalmem(),
      node: process.version,
      kernel: release(),
      loadAverage: { start: loadavg()[0] ?? Number.NaN }
    },
    sizes: { ...sizes, concurrency: CONCURRENCY_TOTAL },
    relays: { lifeline: {}, stock: {} }
  }

  // Last resort: whatever still runs is killed and what was measured is reported.
  const watchdog = setTimeout(() => {
    progress(`watchdog: still running after ${WATCHDOG_MS / 60_000} min, killing everything`)
    killAll()
    results.incomplete = `stopped by the watchdog after ${WATCHDOG_MS / 60_000} min`
    report(results)
    process.exit(1)
  }, WATCHDOG_MS)

  const tmp = await mkdtemp(join(tmpdir(), 'lifeline-bench-relay-'))
  tmpDir = tmp
  try {
    const keyFile = join(tmp, 'relay.key')
    const commands: Record<RelayName, string[]> = {
      lifeline: relayArgs('lifeline', keyFile, sizes),
      stock: relayArgs('stock', keyFile, sizes)
    }
    for (const name of RELAY_NAMES) {
      results.relays[name].command = commands[name]
    }
    const phases = chosenPhases()
    progress(`${results.mode} run: ${sizes.reservations} reservations, ${sizes.circuits} circuits, ${sizes.workers} client workers`)
    if (phases.has('reservations')) {
      for (const name of RELAY_NAMES) {
        results.relays[name].reservations = await reservationPhase(name, sizes, keyFile, commands[name])
      }
    }
    if (phases.has('circuits')) {
      for (const name of RELAY_NAMES) {
        results.relays[name].circuits = await circuitPhase(name, sizes, keyFile, commands[name])
      }
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
