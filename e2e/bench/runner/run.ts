/**
 * `pnpm bench`: Lifeline against plain js-libp2p and a raw RTCDataChannel, between two
 * Chromiums in the e2e lab (namespace A: two relays, bench server, browser A; namespace
 * B: browser B). Every scenario but the relay failover uses relay 1 only. Prints one
 * table of medians on stdout (progress, one line per scenario run, goes to stderr) and
 * writes bench-results.json at the repository root. BENCH_RUNS sets the run count.
 *
 * Bounded in time: each scenario run by its timeout (browsers.ts), the whole bench by
 * a budget after which no scenario starts, and by a watchdog that tears the lab down
 * and exits. The lab is torn down on every path out. A scenario run that failed or
 * was skipped is named in a summary on stderr and makes the exit code 1.
 */
import { writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import globalSetup from '../../lab/global-setup.js'
import globalTeardown from '../../lab/global-teardown.js'
import { createLab } from '../../lab/netns.js'
import type { Lab } from '../../lab/netns.js'
import { E2E_DIR, SITE_PORT } from '../../lab/services.js'
import { createTestCa } from '../../lab/test-ca.js'
import { SCENARIOS, isScenario } from '../shared.js'
import type { ProfileSummary, ResultReport, Scenario } from '../shared.js'
import { profiling, runScenario } from './browsers.js'
import type { BenchSite } from './browsers.js'
import { Faults } from './faults.js'
import { BenchRelay } from './relays.js'
import { NOTES, formatTable, load, machine, summarize } from './report.js'
import type { Failure } from './report.js'

/**
 * Sized so the whole default bench fits its budget on a machine several times slower
 * than the one it was tuned on. There (2 cores, load average 6-9 from other work) one
 * round, every scenario once, took about 60 s: some 25 s of it waits that do not scale
 * with the machine (libp2p-failover alone is 17-26 s: the fault comes 1.5-11.5 s into
 * its stream, and libp2p's connection monitor pings every 10 s), the rest CPU-bound.
 * Three times slower a round takes about 25 + 3 x 35 = 130 s, four times about 165 s,
 * so the last scenario of three rounds starts before BUDGET_MS runs out; the old
 * default of five rounds did not fit (its fifth round was skipped on such a machine).
 * Three runs still give a median. The two relay transport scenarios (WSS and
 * WebRTC-Direct, relayed only) add about 20 s to a round there, 60 s three times slower.
 * The two idle scenarios add about 90 s to a round, nearly all of it waiting (two
 * windows of IDLE_SETTLE_MS + IDLE_WINDOW_MS each), so about as much on a slow machine.
 */
const DEFAULT_RUNS = 3
/**
 * No scenario starts after this: three rounds of the twelve scenarios at four times the
 * tuning machine's time (about 3 x 315 s) fit, with room for the lab's start.
 */
const BUDGET_MS = 17 * 60_000
/** Last resort: tear down and exit, whatever is still running (the last scenario's own timeout is 60 s). */
const WATCHDOG_MS = 19 * 60_000
const SERVER_READY_TIMEOUT_MS = 20_000

const PAGE_DIR = join(E2E_DIR, 'dist-bench', 'page')
const SERVER_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'server.js')
const RESULTS_FILE = resolve(E2E_DIR, '..', 'bench-results.json')
const PROFILE_FILE = resolve(E2E_DIR, '..', 'bench-profile.json')
/** Functions printed per profile; the file keeps more. */
const PROFILE_LINES = 15

function runCount (): number {
  const runs = Number(process.env.BENCH_RUNS ?? DEFAULT_RUNS)
  if (!Number.isInteger(runs) || runs < 1 || runs > 50) {
    throw new Error(`BENCH_RUNS must be an integer from 1 to 50, not ${process.env.BENCH_RUNS ?? ''}`)
  }
  return runs
}

/** BENCH_SCENARIOS=a,b runs only those scenarios (for working on the bench). */
function scenarios (): Scenario[] {
  const chosen = process.env.BENCH_SCENARIOS
  if (chosen === undefined || chosen === '') {
    return [...SCENARIOS]
  }
  const names = chosen.split(',')
  const unknown = names.filter((name) => !isScenario(name))
  if (unknown.length > 0) {
    throw new Error(`BENCH_SCENARIOS: no scenario ${unknown.join(', ')} (there are ${SCENARIOS.join(', ')})`)
  }
  return SCENARIOS.filter((scenario) => names.includes(scenario))
}

function progress (text: string): void {
  process.stderr.write(`[bench] ${text}\n`)
}

function clock (ms: number): string {
  const seconds = Math.round(ms / 1000)
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`
}

/** Every scenario run that did not complete, one line each, then what it means. */
function reportFailures (failures: Failure[], planned: number): void {
  if (failures.length === 0) {
    progress(`all ${planned} scenario runs completed`)
    return
  }
  const skipped = failures.filter((failure) => failure.skipped === true).length
  progress(`${failures.length} of ${planned} scenario runs did not complete (${failures.length - skipped} failed, ${skipped} skipped):`)
  for (const failure of failures) {
    progress(`  run ${failure.run} ${failure.scenario}: ${failure.skipped === true ? 'SKIPPED' : 'FAILED'}: ${failure.error.split('\n')[0] ?? ''}`)
  }
  progress('the figures above rest on fewer runs than asked for; exit code 1')
}

/** The address of `relay` whose path matches `pattern`; fails naming what it printed. */
function addressOf (relay: BenchRelay, pattern: RegExp, what: string): string {
  const address = relay.multiaddrs.find((ma) => pattern.test(ma))
  if (address === undefined) {
    throw new Error(`relay ${relay.index} printed no ${what} address: ${relay.multiaddrs.join(' ')}`)
  }
  return address
}

async function startSite (lab: Lab): Promise<BenchSite> {
  const relays = [new BenchRelay(lab, 1), new BenchRelay(lab, 2)] as const
  // a third relay serves TLS (WSS on 443, and WebRTC-Direct), with a certificate from a
  // CA made for this run that the browsers trust (their HOME's NSS database)
  const ca = await createTestCa(join(lab.dir, 'ca'))
  const tlsRelay = new BenchRelay(lab, 3, await ca.issue('relay', lab.ipA))
  await Promise.all([...relays, tlsRelay].map(async (relay) => { await relay.start() }))
  const socket = join(lab.dir, 'bench.sock')
  const faults = new Faults(lab, [...relays], socket)
  await faults.install()
  const server = lab.spawnIn(lab.nsA, 'bench server', process.execPath, [SERVER_SCRIPT, PAGE_DIR, lab.ipA, String(SITE_PORT), socket])
  await server.waitForLine(/^listening /, SERVER_READY_TIMEOUT_MS)
  return {
    lab,
    server,
    pageUrl: `http://${lab.ipA}:${SITE_PORT}/`,
    relay: relays[0].multiaddr,
    relay2: relays[1].multiaddr,
    relayWss: addressOf(tlsRelay, /\/tls\/ws\/p2p\//, 'WSS'),
    relayWebrtcDirect: addressOf(tlsRelay, /\/webrtc-direct\/certhash\//, 'WebRTC-Direct'),
    home: ca.home,
    faults
  }
}

async function measure (site: BenchSite, chosen: Scenario[], runs: number, started: number, signal: AbortSignal): Promise<{ reports: ResultReport[], failures: Failure[] }> {
  const reports: ResultReport[] = []
  const failures: Failure[] = []
  // Scenarios interleave (run 1 of each, then run 2 ...), so drift spreads over all.
  for (let run = 1; run <= runs; run++) {
    for (const scenario of chosen) {
      const elapsed = clock(Date.now() - started)
      if (Date.now() - started > BUDGET_MS) {
        failures.push({ run, scenario, skipped: true, error: `not run: the bench's ${BUDGET_MS / 60_000} min budget was spent` })
        progress(`[${elapsed}] run ${run}/${runs} ${scenario}: SKIPPED, the ${BUDGET_MS / 60_000} min budget is spent`)
        continue
      }
      const outcome = await runScenario(site, scenario, `${run}-${scenario}`)
      if (signal.aborted) {
        return { reports, failures }
      }
      if (outcome.ok) {
        reports.push(outcome.report)
        progress(`[${elapsed}] run ${run}/${runs} ${scenario}: ${(outcome.ms / 1000).toFixed(1)} s ${JSON.stringify(outcome.report.metrics, (_, v: unknown) => typeof v === 'number' ? Number(v.toFixed(2)) : v)}`)
      } else {
        failures.push({ run, scenario, error: outcome.error })
        progress(`[${elapsed}] run ${run}/${runs} ${scenario}: FAILED after ${(outcome.ms / 1000).toFixed(1)} s: ${outcome.error}`)
      }
    }
  }
  return { reports, failures }
}

/** The profiles the pages posted (BENCH_PROFILE=1): merged over the runs and printed in short, kept whole in PROFILE_FILE. */
async function reportProfiles (site: BenchSite): Promise<void> {
  const profiles = site.server.lines()
    .filter((line) => line.startsWith('profile '))
    .map((line) => JSON.parse(line.slice(line.indexOf(' ', 'profile '.length) + 1)) as ProfileSummary)
  await writeFile(PROFILE_FILE, `${JSON.stringify(profiles, null, 2)}\n`)
  const merged = new Map<string, { samples: number, busy: number, runs: number, self: Map<string, number>, callers: Map<string, string[]> }>()
  for (const profile of profiles) {
    const key = `${profile.scenario} ${profile.role} ${profile.phase}`
    const entry = merged.get(key) ?? { samples: 0, busy: 0, runs: 0, self: new Map<string, number>(), callers: new Map<string, string[]>() }
    merged.set(key, entry)
    entry.samples += profile.samples
    entry.busy += profile.samples - profile.idleSamples
    entry.runs++
    for (const { fn, self, callers } of profile.top) {
      entry.self.set(fn, (entry.self.get(fn) ?? 0) + self)
      if (!entry.callers.has(fn)) {
        entry.callers.set(fn, callers)
      }
    }
  }
  for (const [key, entry] of merged) {
    console.log(`\nprofile ${key}: ${entry.runs} runs, ${entry.samples} samples, ${entry.busy} with JavaScript running`)
    const top = [...entry.self.entries()].sort((a, b) => b[1] - a[1]).slice(0, PROFILE_LINES)
    for (const [fn, self] of top) {
      const percent = (self / Math.max(1, entry.samples) * 100).toFixed(1)
      console.log(`  ${percent.padStart(5)}%  ${String(self).padStart(6)}  ${fn}  <- ${(entry.callers.get(fn) ?? []).join(', ')}`)
    }
  }
  console.log(`\nwritten: ${PROFILE_FILE}`)
}

async function main (): Promise<number> {
  const runs = runCount()
  const chosen = scenarios()
  const started = Date.now()
  const loadAtStart = load()
  // Checks root, ip, nft and Chromium; removes namespaces of crashed earlier runs.
  await globalSetup()
  const lab = await createLab()
  let teardown: Promise<void> | undefined
  const tearDown = async (): Promise<void> => {
    teardown ??= lab.teardown().finally(globalTeardown)
    await teardown
  }
  const stopping = new AbortController()
  const abort = (why: string, code: number): void => {
    stopping.abort()
    progress(`${why}: tearing the lab down`)
    void tearDown().finally(() => process.exit(code))
  }
  const watchdog = setTimeout(() => { abort(`still running after ${WATCHDOG_MS / 60_000} min`, 1) }, WATCHDOG_MS)
  process.once('SIGINT', () => { abort('interrupted', 130) })
  process.once('SIGTERM', () => { abort('terminated', 143) })

  let measured: Awaited<ReturnType<typeof measure>>
  try {
    const site = await startSite(lab)
    progress(`lab up: relays ${site.relay} ${site.relay2} ${site.relayWss} ${site.relayWebrtcDirect}, page ${site.pageUrl}; ${runs} runs of ${chosen.join(', ')}`)
    measured = await measure(site, chosen, runs, started, stopping.signal)
    if (profiling()) {
      await reportProfiles(site)
    }
  } finally {
    await tearDown()
    clearTimeout(watchdog)
  }

  const host = await machine(loadAtStart)
  const notes = [...NOTES, `Load average (1 min) ${loadAtStart} at the start, ${String(host.loadAverageAtEnd)} at the end, on ${String(host.cores)} cores.`]
  const results = summarize(runs, measured.reports, measured.failures, notes, host)
  await writeFile(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`)
  console.log(formatTable(results))
  console.log(`\nwritten: ${RESULTS_FILE} (${((Date.now() - started) / 1000).toFixed(0)} s)`)
  reportFailures(measured.failures, runs * chosen.length)
  // Any scenario run that failed or was skipped fails the bench, not only a figure with no run at all.
  const figures = [results.lifeline, results.libp2p, results.rtcDataChannel, ...Object.values(results.relayTransports)].flatMap((each) => Object.values(each))
  return measured.failures.length > 0 || figures.includes(null) ? 1 : 0
}

main().then((code) => { process.exitCode = code }, (err: unknown) => {
  progress(`failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
  process.exitCode = 1
})
