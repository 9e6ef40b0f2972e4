import { defineConfig } from 'vite'

/**
 * `vite build` writes dist/; `pnpm demo` (scripts/demo.js) then adds dist/relays.json and
 * serves it with `vite preview`.
 */
export default defineConfig({
  // Relative asset URLs, so the built page works from any path
  base: './',
  build: {
    target: 'es2022',
    // the SDK's first chunk is about 500 KiB minified (146 KiB gzip, see `pnpm size`); fine for a demo
    chunkSizeWarningLimit: 1024,
    reportCompressedSize: false
  }
})
