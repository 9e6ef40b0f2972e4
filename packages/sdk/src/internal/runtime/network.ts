/**
 * Node.js has no `online` or `offline` event; a peer there relies on the relay pool's
 * pings and backoff. Browsers get network.browser.ts, with the same signature.
 */
export interface NetworkHandlers {
  online(): void
  offline(): void
}

export function watchNetwork (_handlers: NetworkHandlers): () => void {
  return () => {}
}
