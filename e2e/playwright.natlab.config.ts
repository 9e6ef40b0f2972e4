import { defineConfig } from '@playwright/test'
import base from './playwright.config.js'

/**
 * The real-NAT matrix (natlab/): one lab of six namespaces per worker, NAT behaviours
 * switched per test. Everything else (one test at a time, retries, reporter) as in the
 * two-namespace suite's config.
 */
export default defineConfig({
  ...base,
  testDir: './natlab',
  timeout: 120_000,
  globalSetup: './natlab/global-setup.ts',
  globalTeardown: './natlab/global-teardown.ts'
})
