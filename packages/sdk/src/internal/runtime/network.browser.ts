/**
 * The browser's word on the network: `online` (it is back, so the relay pool retries at
 * once instead of waiting out its backoff) and `offline` (it is gone, so the pool pings
 * its relays now instead of at the idle pace, and finds them dead within seconds).
 * Returns a detach function.
 */
import type { NetworkHandlers } from './network.js'

export function watchNetwork (handlers: NetworkHandlers): () => void {
  const online = (): void => { handlers.online() }
  const offline = (): void => { handlers.offline() }
  globalThis.addEventListener('online', online)
  globalThis.addEventListener('offline', offline)
  return () => {
    globalThis.removeEventListener('online', online)
    globalThis.removeEventListener('offline', offline)
  }
}
