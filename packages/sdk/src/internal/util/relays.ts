import type { RelayAddress } from './parse.js'

/** `first`, then those of `then` whose peer ID is not among them: one entry per relay. */
export function mergeRelays (first: readonly RelayAddress[], then: readonly RelayAddress[]): RelayAddress[] {
  const seen = new Set(first.map(r => r.peerId.toString()))
  const merged = [...first]
  for (const relay of then) {
    const id = relay.peerId.toString()
    if (!seen.has(id)) {
      seen.add(id)
      merged.push(relay)
    }
  }
  return merged
}
