import { defineConfig } from '@playwright/test'

// Namespaces are named after the runner's pid; workers inherit this and teardown matches it.
process.env.LL_RUN_ID ??= String(process.pid)

/**
 * The real-NAT matrix (natlab/): one lab of six namespaces per worker, NAT behaviours
 * switched per test. One test at a time: each starts two Chromiums, and the timing
 * assertions (first message within 500 ms) must not compete for the two cores.
 */
export default defineConfig({
  testDir: './natlab',
  workers: 1,
  fullyParallel: false,
  // one retry in CI only, for infrastructure flakes; the report lists any test that needed it as flaky
  retries: process.env.CI === undefined ? 0 : 1,
  timeout: 120_000,
  expect: { timeout: 15_000 },
  reporter: 'list',
  globalSetup: './natlab/global-setup.ts',
  globalTeardown: './natlab/global-teardown.ts',
  use: {
    trace: 'off',
    video: 'off',
    screenshot: 'off'
  }
})
