/**
 * Node.js 20 lacks two APIs that libp2p 3 expects from Node 22: `Promise.withResolvers`
 * (called throughout libp2p) and a global `WebSocket` (used by @libp2p/websockets to
 * dial `ws://` and `wss://`). This module fills exactly those two gaps, only where
 * they are missing, and is loaded first by the SDK's Node entry point. Browsers get
 * `shims.browser.ts` (nothing to do) through package.json's `browser` map.
 */
import 'core-js/actual/promise/with-resolvers.js'
import { WebSocket as NodeWebSocket } from 'ws'

export const installedWebSocketShim = installWebSocket()

function installWebSocket (): boolean {
  if (typeof globalThis.WebSocket === 'function') {
    return false
  }
  // `ws` implements the WHATWG WebSocket interface libp2p uses (binaryType, onopen, send, close)
  globalThis.WebSocket = NodeWebSocket as unknown as typeof globalThis.WebSocket
  return true
}
