import { defineConfig } from '@playwright/test'

// Namespaces are named after the runner's pid; workers inherit this and teardown matches it.
process.env.LL_RUN_ID ??= String(process.pid)

/**
 * One test at a time: each test builds its own network lab with two Chromiums, and
 * timing assertions (dial within 3 s) must not compete for the two cores.
 */
export default defineConfig({
  testDir: './tests',
  workers: 1,
  fullyParallel: false,
  // one retry in CI only, for infrastructure flakes; the report lists any test that needed it as flaky
  retries: process.env.CI === undefined ? 0 : 1,
  timeout: 90_000,
  expect: { timeout: 15_000 },
  reporter: 'list',
  globalSetup: './lab/global-setup.ts',
  globalTeardown: './lab/global-teardown.ts',
  use: {
    trace: 'off',
    video: 'off',
    screenshot: 'off'
  }
})
