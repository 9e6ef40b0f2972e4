import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // the CLI tests run dist/cli.js, so build it first
    globalSetup: ['test/build-cli.ts'],
    // Node 20 has no global WebSocket without this flag (built in from Node 22); the
    // test clients dial the relay over ws://. This package has no @types/ws to import `ws` with.
    execArgv: ['--experimental-websocket'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // expect.poll() waits for behaviour, not for a time: vitest's default of 1 s is
    // a wall-clock bound a slower machine fails; 20 s is about 10x the slowest wait seen
    expect: { poll: { timeout: 20_000 } }
  }
})
