/**
 * One run of one scenario: a fresh Chromium in each namespace, started directly (no
 * DevTools client: Playwright's would slow WebSockets 3-6x), loads the bench page,
 * which measures by itself; the runner waits for its report on the bench server's
 * stdout, does the fault a fault scenario asks for on the way, then stops both
 * browsers and undoes the fault.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { LabProcess } from '../../lab/exec.js'
import { CHROMIUM } from '../../lab/netns.js'
import type { Lab } from '../../lab/netns.js'
import { CHROMIUM_FLAGS } from '../../lab/services.js'
import { pageDeadlineMs } from '../shared.js'
import type { FaultRequest, ResultReport, Role, Scenario } from '../shared.js'
import type { Faults } from './faults.js'

/** Past the page's own deadline, so a page that is stuck still gets to report why. */
const SCENARIO_GRACE_MS = 10_000
/** Lines of each browser's output kept with a failure. */
const FAILURE_OUTPUT_LINES = 15
/**
 * A fault scenario paces its messages with timers; nothing here may throttle them
 * (headless pages count as visible, but this makes sure).
 */
const BENCH_FLAGS = ['--disable-background-timer-throttling', '--disable-renderer-backgrounding']

export interface BenchSite {
  lab: Lab
  /** The bench server process, in namespace A; its stdout carries the reports. */
  server: LabProcess
  /** The bench page's URL, on the bench server. */
  pageUrl: string
  relay: string
  /** The second relay, for the relay failover scenario. */
  relay2: string
  /** The TLS relay's WSS and WebRTC-Direct addresses, for the relay transport scenarios. */
  relayWss: string
  relayWebrtcDirect: string
  /** The browsers' HOME: its NSS database trusts the CA of the TLS relay's certificate. */
  home: string
  faults: Faults
}

/** BENCH_PROFILE=1: CPU profiles of every bulk transfer (page/profile.ts), not for figures. */
export function profiling (): boolean {
  return process.env.BENCH_PROFILE === '1'
}

export type ScenarioOutcome =
  | { ok: true, report: ResultReport, ms: number }
  | { ok: false, error: string, ms: number }

function pageUrl (site: BenchSite, scenario: Scenario, role: Role, session: string): string {
  const query = new URLSearchParams({
    scenario, role, session, relay: site.relay, relay2: site.relay2, relayWss: site.relayWss, relayWebrtcDirect: site.relayWebrtcDirect
  })
  if (profiling()) {
    query.set('profile', '1')
  }
  return `${site.pageUrl}?${query.toString()}`
}

async function startBrowser (site: BenchSite, ns: string, role: Role, scenario: Scenario, session: string): Promise<{ browser: LabProcess, profile: string }> {
  const profile = await mkdtemp(join(site.lab.dir, `profile-${role}-`))
  const browser = site.lab.spawnIn(ns, `chromium ${role}`, 'env', [
    `HOME=${site.home}`, CHROMIUM,
    '--headless=new', ...CHROMIUM_FLAGS, ...BENCH_FLAGS, `--user-data-dir=${profile}`, pageUrl(site, scenario, role, session)
  ])
  return { browser, profile }
}

function escapeRegExp (text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

function parseReport (json: string, scenario: Scenario): ResultReport {
  const report = JSON.parse(json) as Partial<ResultReport>
  if (report.scenario !== scenario || typeof report.metrics !== 'object' || typeof report.samples !== 'object') {
    throw new Error(`malformed report: ${json}`)
  }
  for (const [name, value] of Object.entries(report.metrics)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new Error(`malformed figure ${name}: ${json}`)
    }
  }
  return report as ResultReport
}

/** Chromium complains about the missing D-Bus on every start; that says nothing about a failure. */
const NOISE = /dbus/

function tail (browser: LabProcess): string {
  return browser.output().split('\n').filter((line) => !NOISE.test(line)).slice(-FAILURE_OUTPUT_LINES).join('\n')
}

/** What follows `<kind> <session> ` in a bench server line. */
function payload (line: string): string {
  return line.slice(line.indexOf(' ', line.indexOf(' ') + 1) + 1)
}

async function runBrowsers (site: BenchSite, scenario: Scenario, session: string, started: number): Promise<ScenarioOutcome> {
  const browsers: Array<{ browser: LabProcess, profile: string }> = []
  try {
    browsers.push(await startBrowser(site, site.lab.nsB, 'b', scenario, session))
    browsers.push(await startBrowser(site, site.lab.nsA, 'a', scenario, session))
    const quoted = escapeRegExp(session)
    const next = new RegExp(`^(result|error|fault) ${quoted} `)
    const timeoutMs = pageDeadlineMs(scenario) + SCENARIO_GRACE_MS
    let line = await site.server.waitForLine(next, timeoutMs)
    for (let handled = 1; line.startsWith('fault '); handled++) {
      // the page waits for the answer in its mailbox
      await site.faults.perform(session, JSON.parse(payload(line)) as FaultRequest)
      line = await site.server.waitForLine(next, Math.max(1, started + timeoutMs - Date.now()), handled)
    }
    const json = payload(line)
    if (line.startsWith('error ')) {
      const { role, message } = JSON.parse(json) as { role: string, message: string }
      return { ok: false, error: `browser ${role.toUpperCase()}: ${message}`, ms: Date.now() - started }
    }
    return { ok: true, report: parseReport(json, scenario), ms: Date.now() - started }
  } catch (err) {
    // the first line says what happened; the server's output (all reports) is not needed
    const what = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? ''
    const output = browsers.map(({ browser }) => tail(browser)).join('\n')
    return { ok: false, error: `${what}\n${output}`, ms: Date.now() - started }
  } finally {
    await Promise.allSettled(browsers.map(async ({ browser, profile }) => {
      await browser.stop()
      await rm(profile, { recursive: true, force: true })
    }))
  }
}

export async function runScenario (site: BenchSite, scenario: Scenario, session: string): Promise<ScenarioOutcome> {
  const started = Date.now()
  const outcome = await runBrowsers(site, scenario, session, started)
  try {
    // the next scenario needs UDP and every relay back
    await site.faults.restore()
  } catch (err) {
    const what = err instanceof Error ? err.message : String(err)
    return { ok: false, error: `undoing the fault failed: ${what}`, ms: Date.now() - started }
  }
  return outcome
}
