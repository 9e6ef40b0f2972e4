import { defineConfig } from 'vite'

/**
 * Builds the harness page into e2e/dist-harness (`vite build harness --outDir ../dist-harness`).
 * Not minified, with source maps, so a failing test's stack trace points at real code.
 */
export default defineConfig({
  base: './',
  logLevel: 'warn',
  build: {
    target: 'es2022',
    minify: false,
    sourcemap: true,
    reportCompressedSize: false
  }
})
