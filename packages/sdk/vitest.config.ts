import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // unit tests import modules directly, not through the Node entry point that loads the shims
    setupFiles: ['./src/internal/runtime/shims.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // expect.poll() waits for behaviour, not for a time: vitest's default of 1 s
    // failed on a machine several times slower, so it waits up to 20 s (about 10x
    // the slowest wait seen here) before calling a behaviour missing
    expect: { poll: { timeout: 20_000 } }
  }
})
