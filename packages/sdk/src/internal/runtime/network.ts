/**
 * Node.js has no `online` event; a peer there relies on the relay pool's backoff.
 * Browsers get network.browser.ts, with the same signature.
 */
export function onNetworkOnline (_handler: () => void): () => void {
  return () => {}
}
