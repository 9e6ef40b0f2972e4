/**
 * libp2p 3 calls `Promise.withResolvers` (a Node 22 API) in about fifty places, and
 * crashes at startup on Node 20 without it. This module fills only that gap, only
 * where it is missing, and must be imported before anything from libp2p.
 */
import 'core-js/actual/promise/with-resolvers.js'
