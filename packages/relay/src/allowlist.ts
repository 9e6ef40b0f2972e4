/**
 * Authorisation by identity: with `--allow-peers FILE`, only the listed peers may
 * connect to the relay, so only they can reserve and relay. Every connection is
 * Noise-authenticated, so a peer ID here is proof of the key, not a claim.
 * The file holds one peer ID per line; blank lines and `#` comments are ignored.
 */
import { readFile } from 'node:fs/promises'
import { peerIdFromString } from '@libp2p/peer-id'
import { ConfigError } from './errors.js'

export function parseAllowlist (text: string, source: string): Set<string> {
  const allowed = new Set<string>()
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/#.*/, '').trim()
    if (line === '') {
      return
    }
    try {
      allowed.add(peerIdFromString(line).toString())
    } catch {
      throw new ConfigError(`${source}:${index + 1}: "${line.slice(0, 80)}" is not a peer ID`)
    }
  })
  if (allowed.size === 0) {
    throw new ConfigError(`${source} lists no peer IDs: nobody could use the relay`)
  }
  return allowed
}

export async function loadAllowlist (path: string): Promise<Set<string>> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new ConfigError(`cannot read the allowed-peers file ${path}: ${err instanceof Error ? err.message : String(err)}`)
  }
  return parseAllowlist(text, path)
}
