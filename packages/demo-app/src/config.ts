/**
 * Where the demo gets its settings: the relay list (URL query or relays.json), the
 * identity kept in sessionStorage, the display name in localStorage, and the room
 * from invite links (`#room=NAME`).
 */

const IDENTITY_KEY = 'lifeline-demo/private-key'
const NAME_KEY = 'lifeline-demo/name'
const ROOM_PARAM = 'room'
/** Room names the demo accepts; the SDK hashes the name, so this is only for sane links. */
export const MAX_ROOM_NAME_CHARS = 100

/**
 * Relays from `?relay=<multiaddr>` (repeatable), else from `relays.json` next to the
 * page (written by `pnpm demo`).
 */
export async function loadRelays (): Promise<string[]> {
  const fromQuery = new URLSearchParams(location.search).getAll('relay').filter(r => r !== '')
  if (fromQuery.length > 0) {
    return fromQuery
  }
  const help = 'Add ?relay=<multiaddr> to the URL, or start the demo with `pnpm demo`, which writes relays.json.'
  const response = await fetch('relays.json', { cache: 'no-store' }).catch(() => undefined)
  if (response?.ok !== true) {
    throw new Error(`No relays configured: relays.json could not be loaded. ${help}`)
  }
  const list: unknown = await response.json().catch(() => undefined)
  if (!Array.isArray(list) || list.length === 0 || !list.every(r => typeof r === 'string')) {
    throw new Error(`relays.json must be a non-empty JSON array of multiaddr strings. ${help}`)
  }
  return list
}

const PRIVATE_HOST = [
  /^\/ip4\/(127|10)\./,
  /^\/ip4\/192\.168\./,
  /^\/ip4\/172\.(1[6-9]|2\d|3[01])\./,
  /^\/ip4\/169\.254\./,
  /^\/ip6\/(::1|f[cd][0-9a-f]{2}:|fe80:)/i,
  /^\/dns[46]?\/localhost\//
]

/**
 * True when a relay is on a private or loopback address or uses plain `ws` (not `wss`):
 * browsers refuse both unless the SDK is told `allowPrivateAddresses`.
 */
export function needsPrivateAddresses (relays: string[]): boolean {
  return relays.some(r => PRIVATE_HOST.some(p => p.test(r)) || /\/ws(\/|$)/.test(r))
}

/** The private key saved by an earlier load of this tab, if any. */
export function loadIdentity (): Uint8Array | undefined {
  const saved = sessionStorage.getItem(IDENTITY_KEY)
  if (saved === null) {
    return undefined
  }
  try {
    return Uint8Array.from(atob(saved), c => c.charCodeAt(0))
  } catch {
    forgetIdentity()
    return undefined
  }
}

export function saveIdentity (key: Uint8Array): void {
  sessionStorage.setItem(IDENTITY_KEY, btoa(String.fromCharCode(...key)))
}

export function forgetIdentity (): void {
  sessionStorage.removeItem(IDENTITY_KEY)
}

/** This page's URL (relay query included) with `#room=<name>`. */
export function inviteLink (room: string): string {
  const url = new URL(location.href)
  url.hash = `${ROOM_PARAM}=${encodeURIComponent(room)}`
  return url.href
}

/** The room in a `#room=` fragment, or undefined. */
export function roomFromHash (hash: string): string | undefined {
  const room = new URLSearchParams(hash.replace(/^#/, '')).get(ROOM_PARAM)?.trim()
  return room === undefined || room === '' ? undefined : room.slice(0, MAX_ROOM_NAME_CHARS)
}

/** The name this browser used last time, or a made-up one. */
export function loadName (): string {
  return localStorage.getItem(NAME_KEY) ?? `Guest ${Math.floor(1000 + Math.random() * 9000)}`
}

export function saveName (name: string): void {
  localStorage.setItem(NAME_KEY, name)
}

/** A member's display name from its metadata (`{"name": ...}`), or its short peer ID. */
export function nameFromMetadata (metadata: Uint8Array, fallback: string): string {
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(metadata))
    if (typeof parsed === 'object' && parsed !== null && 'name' in parsed && typeof parsed.name === 'string' && parsed.name.trim() !== '') {
      return parsed.name.trim().slice(0, 40)
    }
  } catch {
    // not ours: fall back
  }
  return fallback
}
