/**
 * Node.js 20 lacks two APIs that libp2p 3 expects from Node 22: `Promise.withResolvers`
 * (called throughout libp2p) and a global `WebSocket` (used by @libp2p/websockets to
 * dial `ws://` and `wss://`). This module fills exactly those two gaps, only where
 * they are missing, and is loaded first by the SDK's Node entry point. Browsers get
 * `shims.browser.ts` (nothing to do) through package.json's `browser` map.
 */
import 'core-js/actual/promise/with-resolvers.js'
import { WebSocket as NodeWebSocket } from 'ws'

/**
 * `ws` implements the WHATWG WebSocket interface libp2p uses (binaryType, onopen, send,
 * close), but it is a Node EventEmitter underneath: an 'error' nobody listens to is
 * thrown as an uncaught exception and ends the process. A browser just drops it. And
 * libp2p removes its listeners when it abandons a dial (an aborted or timed-out dial
 * to a relay that went away), before the late connect error (ECONNREFUSED) or the
 * close of a socket still connecting arrives. A listener that ignores errors makes
 * `ws` behave as a browser does; listeners added by libp2p still see every error.
 */
class BrowserLikeWebSocket extends NodeWebSocket {
  constructor (...args: ConstructorParameters<typeof NodeWebSocket>) {
    super(...args)
    this.on('error', () => {})
  }
}

export const installedWebSocketShim = installWebSocket()

function installWebSocket (): boolean {
  if (typeof globalThis.WebSocket === 'function') {
    return false
  }
  globalThis.WebSocket = BrowserLikeWebSocket as unknown as typeof globalThis.WebSocket
  return true
}
