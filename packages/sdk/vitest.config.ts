import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // unit tests import modules directly, not through the Node entry point that loads the shims
    setupFiles: ['./src/internal/runtime/shims.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
