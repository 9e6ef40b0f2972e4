/** Browsers have `Promise.withResolvers` and `WebSocket`; see shims.ts for Node.js. */
export const installedWebSocketShim = false
