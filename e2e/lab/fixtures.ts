/**
 * Playwright fixtures: per test a fresh lab, the real relay and the page server in
 * namespace A, browser A in namespace A and browser B in namespace B, each with the
 * harness loaded over the veth. Everything is torn down even when the test fails;
 * browser consoles and the relay's output are attached to failed tests.
 */
import { test as base } from '@playwright/test'
import type { Browser, TestInfo } from '@playwright/test'
import { HarnessPage } from './harness-client.js'
import { createLab } from './netns.js'
import type { Lab } from './netns.js'
import { launchBrowserIn, startRelay, startSite } from './services.js'
import type { RelayHandle } from './services.js'

export { expect } from '@playwright/test'

interface LabFixtures {
  lab: Lab
  relay: RelayHandle
  /** Base URL of the harness page, served from namespace A. */
  site: string
  /** The harness in a browser in namespace A (same host as the relay). */
  a: HarnessPage
  /** The harness in a browser in namespace B (the other side of the veth). */
  b: HarnessPage
}

function failed (testInfo: TestInfo): boolean {
  return testInfo.status !== testInfo.expectedStatus
}

async function harnessIn (lab: Lab, ns: string, name: string, site: string, testInfo: TestInfo,
  use: (page: HarnessPage) => Promise<void>): Promise<void> {
  let browser: Browser | undefined
  const log: string[] = []
  try {
    browser = await launchBrowserIn(lab, ns)
    const page = await (await browser.newContext()).newPage()
    page.on('console', (message) => { log.push(`${new Date().toISOString()} [${message.type()}] ${message.text()}`) })
    page.on('pageerror', (err) => { log.push(`${new Date().toISOString()} [pageerror] ${err.stack ?? err.message}`) })
    const harness = new HarnessPage(name, page)
    await harness.open(site)
    await use(harness)
  } finally {
    if (failed(testInfo) && log.length > 0) {
      await testInfo.attach(`browser ${name} console`, { body: log.join('\n'), contentType: 'text/plain' })
    }
    await browser?.close()
  }
}

export const test = base.extend<LabFixtures>({
  // eslint-disable-next-line no-empty-pattern -- Playwright requires the destructuring pattern
  lab: async ({}, use) => {
    const lab = await createLab()
    try {
      await use(lab)
    } finally {
      await lab.teardown()
    }
  },

  relay: async ({ lab }, use, testInfo) => {
    const relay = await startRelay(lab)
    try {
      await use(relay)
    } finally {
      if (failed(testInfo)) {
        await testInfo.attach('relay output', { body: relay.process.output(), contentType: 'text/plain' })
      }
    }
  },

  site: async ({ lab }, use) => {
    await use(await startSite(lab))
  },

  a: async ({ lab, site }, use, testInfo) => {
    await harnessIn(lab, lab.nsA, 'A', site, testInfo, use)
  },

  b: async ({ lab, site }, use, testInfo) => {
    await harnessIn(lab, lab.nsB, 'B', site, testInfo, use)
  }
})
