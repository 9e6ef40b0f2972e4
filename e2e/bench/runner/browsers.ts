/**
 * One run of one scenario: a fresh Chromium in each namespace, started directly (no
 * DevTools client: Playwright's would slow WebSockets 3-6x), loads the bench page,
 * which measures by itself; the runner waits for its report on the bench server's
 * stdout, then stops both browsers.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { LabProcess } from '../../lab/exec.js'
import { CHROMIUM } from '../../lab/netns.js'
import type { Lab } from '../../lab/netns.js'
import { CHROMIUM_FLAGS } from '../../lab/services.js'
import { PAGE_DEADLINE_MS } from '../shared.js'
import type { ResultReport, Role, Scenario } from '../shared.js'

/** Past the page's own deadline, so a page that is stuck still gets to report why. */
const SCENARIO_TIMEOUT_MS = PAGE_DEADLINE_MS + 10_000
/** Lines of each browser's output kept with a failure. */
const FAILURE_OUTPUT_LINES = 15

export interface BenchSite {
  lab: Lab
  /** The bench server process, in namespace A; its stdout carries the reports. */
  server: LabProcess
  /** The bench page's URL, on the bench server. */
  pageUrl: string
  relay: string
}

export type ScenarioOutcome =
  | { ok: true, report: ResultReport, ms: number }
  | { ok: false, error: string, ms: number }

function pageUrl (site: BenchSite, scenario: Scenario, role: Role, session: string): string {
  const query = new URLSearchParams({ scenario, role, session, relay: site.relay })
  return `${site.pageUrl}?${query.toString()}`
}

async function startBrowser (site: BenchSite, ns: string, role: Role, scenario: Scenario, session: string): Promise<{ browser: LabProcess, profile: string }> {
  const profile = await mkdtemp(join(site.lab.dir, `profile-${role}-`))
  const browser = site.lab.spawnIn(ns, `chromium ${role}`, CHROMIUM, [
    '--headless=new', ...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, pageUrl(site, scenario, role, session)
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

export async function runScenario (site: BenchSite, scenario: Scenario, session: string): Promise<ScenarioOutcome> {
  const started = Date.now()
  const browsers: Array<{ browser: LabProcess, profile: string }> = []
  try {
    browsers.push(await startBrowser(site, site.lab.nsB, 'b', scenario, session))
    browsers.push(await startBrowser(site, site.lab.nsA, 'a', scenario, session))
    const line = await site.server.waitForLine(new RegExp(`^(result|error) ${escapeRegExp(session)} `), SCENARIO_TIMEOUT_MS)
    const json = line.slice(line.indexOf(' ', line.indexOf(' ') + 1) + 1)
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
