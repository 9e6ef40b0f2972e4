/**
 * Calls `handler` when the browser reports the network back (`online` event), so the
 * relay pool retries at once instead of waiting out its backoff. Returns a detach function.
 */
export function onNetworkOnline (handler: () => void): () => void {
  globalThis.addEventListener('online', handler)
  return () => { globalThis.removeEventListener('online', handler) }
}
