/**
 * Playwright fixtures: per test a fresh lab, the real relay and the page server in
 * namespace A, browser A in namespace A and browser B (and C) in namespace B, each with the
 * harness loaded over the veth. Everything is torn down even when the test fails;
 * browser consoles and the relays' output are attached to failed tests.
 *
 * Options (`test.use`): `relayCount` starts that many relays in namespace A (ports
 * 4001, 4002, ..., each with its own key file; `relay` is the first), `sdkDebug`
 * turns on the SDK's logs in both pages (`localStorage.debug`), which then appear in
 * the attached browser consoles, and `https` serves the page over HTTPS and makes the
 * relays serve WSS (TCP 443) and WebRTC-Direct (UDP 4443), with certificates from a CA
 * made for the test that both browsers trust (test-ca.ts), and `redis` starts a
 * redis-server in namespace A that the relays share their rooms through. `c` is a
 * third harness, in its own browser in namespace B.
 *
 * `cpuHogs.start()` starts a process spinning one core; every hog a test started is
 * killed when the test ends, whatever its outcome.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test as base } from '@playwright/test'
import type { Browser, TestInfo } from '@playwright/test'
import { CpuHog } from './cpu-hog.js'
import { HarnessPage } from './harness-client.js'
import { createLab } from './netns.js'
import type { Lab } from './netns.js'
import { RestartableRelay } from './relays.js'
import { launchBrowserIn, startRedis, startSite } from './services.js'
import { createTestCa, type TestCa } from './test-ca.js'
import type { RelayHandle } from './services.js'

export { expect } from '@playwright/test'

interface LabOptions {
  /** Relays to start in namespace A. */
  relayCount: number
  /** `localStorage.debug` in both pages before the harness loads, e.g. 'lifeline:*'; none when empty. */
  sdkDebug: string
  /** Page over HTTPS, relays over WSS and WebRTC-Direct, all trusted through a test CA. */
  https: boolean
  /** A redis-server in namespace A that every relay shares its rooms through (`--redis`). */
  redis: boolean
}

/** Starts CPU hogs for one test; the fixture kills them all at its end. */
interface CpuHogs {
  start(): CpuHog
}

interface LabFixtures {
  lab: Lab
  /** The test's CA with `https`; undefined without. */
  testCa: TestCa | undefined
  cpuHogs: CpuHogs
  /** The first relay (`relays[0]`). */
  relay: RelayHandle
  /** `relayCount` relays, each of which can be killed and restarted with its peer ID. */
  relays: RestartableRelay[]
  /** Base URL of the harness page, served from namespace A. */
  site: string
  /** The harness in a browser in namespace A (same host as the relay). */
  a: HarnessPage
  /** The harness in a browser in namespace B (the other side of the veth). */
  b: HarnessPage
  /** A third harness, in its own browser in namespace B. */
  c: HarnessPage
  /** `redis://<ip A>:<port>` with the `redis` option; undefined without. */
  redisUrl: string | undefined
}

function failed (testInfo: TestInfo): boolean {
  return testInfo.status !== testInfo.expectedStatus
}

async function harnessIn (lab: Lab, ns: string, name: string, site: string, sdkDebug: string, home: string | undefined, testInfo: TestInfo,
  use: (page: HarnessPage) => Promise<void>): Promise<void> {
  let browser: Browser | undefined
  const log: string[] = []
  try {
    browser = await launchBrowserIn(lab, ns, home)
    const context = await browser.newContext()
    if (sdkDebug !== '') {
      // Before any script of the page: the logger reads the setting when its module loads.
      await context.addInitScript((namespaces) => { localStorage.setItem('debug', namespaces) }, sdkDebug)
    }
    const page = await context.newPage()
    page.on('console', (message) => { log.push(`${new Date().toISOString()} [${message.type()}] ${message.text()}`) })
    page.on('pageerror', (err) => { log.push(`${new Date().toISOString()} [pageerror] ${err.stack ?? err.message}`) })
    const harness = new HarnessPage(name, page)
    await harness.open(site)
    await use(harness)
  } finally {
    if (failed(testInfo) && log.length > 0) {
      // kept as a file in test-results too: the list reporter prints only its start
      const path = testInfo.outputPath(`browser-${name}-console.txt`)
      await writeFile(path, log.join('\n'))
      await testInfo.attach(`browser ${name} console`, { path, contentType: 'text/plain' })
    }
    await browser?.close()
  }
}

export const test = base.extend<LabFixtures & LabOptions>({
  relayCount: [1, { option: true }],
  sdkDebug: ['', { option: true }],
  https: [false, { option: true }],
  redis: [false, { option: true }],

  redisUrl: async ({ lab, redis }, use) => {
    await use(redis ? await startRedis(lab) : undefined)
  },

  // eslint-disable-next-line no-empty-pattern -- Playwright requires the destructuring pattern
  lab: async ({}, use) => {
    const lab = await createLab()
    try {
      await use(lab)
    } finally {
      await lab.teardown()
    }
  },

  testCa: async ({ lab, https }, use) => {
    await use(https ? await createTestCa(join(lab.dir, 'ca')) : undefined)
  },

  // eslint-disable-next-line no-empty-pattern -- Playwright requires the destructuring pattern
  cpuHogs: async ({}, use) => {
    const started: CpuHog[] = []
    try {
      await use({
        start: () => {
          const hog = CpuHog.start(`cpu hog ${started.length + 1}`)
          started.push(hog)
          return hog
        }
      })
    } finally {
      await Promise.allSettled(started.map(async (hog) => { await hog.stop() }))
    }
  },

  relays: async ({ lab, relayCount, testCa, redisUrl }, use, testInfo) => {
    const relays: RestartableRelay[] = []
    try {
      const tls = await testCa?.issue('relay', lab.ipA)
      for (let index = 1; index <= relayCount; index++) {
        relays.push(await RestartableRelay.start(lab, index, tls, redisUrl === undefined ? [] : ['--redis', redisUrl]))
      }
      await use(relays)
    } finally {
      if (failed(testInfo)) {
        for (const relay of relays) {
          const name = relayCount === 1 ? 'relay output' : `relay ${relay.index} output`
          await testInfo.attach(name, { body: relay.output(), contentType: 'text/plain' })
        }
      }
    }
  },

  relay: async ({ relays }, use) => {
    const first = relays[0]
    if (first === undefined) {
      throw new Error('relayCount must be at least 1 for the relay fixture')
    }
    await use(first)
  },

  site: async ({ lab, testCa }, use) => {
    await use(await startSite(lab, undefined, await testCa?.issue('site', lab.ipA)))
  },

  a: async ({ lab, site, sdkDebug, testCa }, use, testInfo) => {
    await harnessIn(lab, lab.nsA, 'A', site, sdkDebug, testCa?.home, testInfo, use)
  },

  b: async ({ lab, site, sdkDebug, testCa }, use, testInfo) => {
    await harnessIn(lab, lab.nsB, 'B', site, sdkDebug, testCa?.home, testInfo, use)
  },

  c: async ({ lab, site, sdkDebug, testCa }, use, testInfo) => {
    await harnessIn(lab, lab.nsB, 'C', site, sdkDebug, testCa?.home, testInfo, use)
  }
})
