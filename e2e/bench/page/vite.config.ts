import { defineConfig } from 'vite'

/**
 * Builds the bench page into e2e/dist-bench/page
 * (`vite build bench/page --outDir ../../dist-bench/page`). Minified like an app would
 * ship it, unless BENCH_PROFILE=1 asks for CPU profiles (page/profile.ts), which then
 * name functions; the bench server serves it to both browsers.
 */
export default defineConfig({
  base: './',
  logLevel: 'warn',
  build: {
    target: 'es2022',
    reportCompressedSize: false,
    minify: process.env.BENCH_PROFILE !== '1',
    // one page pulls in the SDK and plain libp2p: larger than Vite's default warning
    chunkSizeWarningLimit: 2048
  }
})
