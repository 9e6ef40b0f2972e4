import { defineConfig } from '@playwright/test'
import base from './playwright.config.js'

/**
 * The soak (soak/): minutes of small messages between two Chromiums, every stall
 * logged. Not part of `pnpm test`; run it by hand, e.g.
 * `SOAK_MS=180000 SOAK_PATH=relayed SOAK_HOG=1 npx playwright test -c playwright.soak.config.ts`.
 */
export default defineConfig({
  ...base,
  testDir: './soak',
  // the soak's own length plus start and teardown; SOAK_MS is capped at 10 min
  timeout: 12 * 60_000
})
