/**
 * Playwright fixtures for the NAT lab. One lab per worker (six namespaces, the relay,
 * coturn and the page server stay up across tests); each test sets the two routers'
 * NAT behaviours with `behindNats()`, which also starts one Chromium per LAN with the
 * harness loaded. Browsers are closed after each test; consoles, the relay's output and
 * both routers' rules and conntrack tables are attached to failed tests.
 */
import { join } from 'node:path'
import { test as base } from '@playwright/test'
import type { Browser, Page, TestInfo } from '@playwright/test'
import { HarnessPage } from '../lab/harness-client.js'
import { createTestCa } from '../lab/test-ca.js'
import type { NatMode } from './nat-rules.js'
import { launchBrowserBehind, startRelay, startSite, startStun, STUN_PORT } from './services.js'
import type { RelayHandle } from './services.js'
import { createNatLab } from './topology.js'
import type { NatLab, Side } from './topology.js'

export { expect } from '@playwright/test'

export interface NatLabServices {
  lab: NatLab
  relay: RelayHandle
  /** Base URL of the harness page on the relay host. */
  site: string
  /** `stun:198.51.100.10:3478` */
  stunUrl: string
  /** Chromium's HOME: its NSS database trusts the CA that signed the relay's certificate. */
  home: string
}

export interface BrowserSide {
  /** The harness page (Lifeline peer) in this LAN's browser. */
  harness: HarnessPage
  browser: Browser
  /** Another tab on the same site, for tests that use the browser without the SDK. */
  newPage: () => Promise<Page>
}

export interface Behind {
  a: BrowserSide
  b: BrowserSide
}

interface WorkerFixtures {
  natlab: NatLabServices
}

interface TestFixtures {
  /** Set router A to `modeA` and router B to `modeB`, then open a browser behind each. */
  behindNats: (modeA: NatMode, modeB: NatMode) => Promise<Behind>
}

function failed (testInfo: TestInfo): boolean {
  return testInfo.status !== testInfo.expectedStatus
}

export const test = base.extend<TestFixtures, WorkerFixtures>({
  natlab: [async ({}, use) => { // eslint-disable-line no-empty-pattern -- Playwright requires the destructuring pattern
    const lab = await createNatLab()
    try {
      await startStun(lab)
      const ca = await createTestCa(join(lab.dir, 'ca'))
      const relay = await startRelay(lab, await ca.issue('relay', lab.relayIp))
      const site = await startSite(lab)
      await use({ lab, relay, site, stunUrl: `stun:${lab.relayIp}:${STUN_PORT}`, home: ca.home })
    } finally {
      await lab.teardown()
    }
  }, { scope: 'worker' }],

  behindNats: async ({ natlab }, use, testInfo) => {
    const { lab, site, home } = natlab
    const browsers: Browser[] = []
    const logs: string[] = []
    try {
      await use(async (modeA, modeB) => {
        await Promise.all([lab.setNat('A', modeA), lab.setNat('B', modeB)])
        const open = async (side: Side): Promise<BrowserSide> => {
          const browser = await launchBrowserBehind(lab, side, home)
          browsers.push(browser)
          const context = await browser.newContext()
          const newPage = async (): Promise<Page> => {
            const page = await context.newPage()
            page.on('console', (message) => { logs.push(`${new Date().toISOString()} ${side} [${message.type()}] ${message.text()}`) })
            page.on('pageerror', (err) => { logs.push(`${new Date().toISOString()} ${side} [pageerror] ${err.stack ?? err.message}`) })
            return page
          }
          const harness = new HarnessPage(side, await newPage())
          await harness.open(site)
          return {
            harness,
            browser,
            newPage: async () => {
              const page = await newPage()
              await page.goto(site)
              return page
            }
          }
        }
        const [a, b] = await Promise.all([open('A'), open('B')])
        return { a, b }
      })
    } finally {
      if (failed(testInfo)) {
        const routers = await Promise.all((['A', 'B'] as const).map(async (side) => {
          const rules = await lab.execIn(lab.routerNs(side), 'nft', ['list', 'ruleset']).catch(String)
          const flows = await lab.conntrackTable(side).catch(String)
          return `== router ${side} (${lab.natMode(side) ?? '?'}) ruleset\n${rules}\n== router ${side} conntrack\n${flows}`
        }))
        await testInfo.attach('routers', { body: routers.join('\n'), contentType: 'text/plain' })
        await testInfo.attach('relay output', { body: natlab.relay.process.output(), contentType: 'text/plain' })
        if (logs.length > 0) {
          await testInfo.attach('browser consoles', { body: logs.join('\n'), contentType: 'text/plain' })
        }
      }
      await Promise.all(browsers.map(async (browser) => { await browser.close() }))
    }
  }
})
