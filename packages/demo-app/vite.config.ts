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
    // libp2p + WebRTC + circuit relay is about 600 KiB minified (168 KiB gzip); one chunk is fine for a demo
    chunkSizeWarningLimit: 1024,
    reportCompressedSize: false
  }
})
