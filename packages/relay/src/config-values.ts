/**
 * Parsers for option values, shared by flags, environment variables and the config
 * file; each names the option (`source`) in the ConfigError it throws.
 */
import { isIP } from 'node:net'
import { UNLIMITED_DATA_BYTES } from './constants.js'
import { ConfigError } from './errors.js'
import type { ListenAddress } from './config.js'

export function parseInteger (text: string, source: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer of at least ${min}` : `an integer from ${min} to ${max}`
    throw new ConfigError(`${source} must be ${range}, got "${text}"`)
  }
  return value
}

/** `HOST:PORT`, with an IPv6 host in brackets: `127.0.0.1:9464`, `[::1]:9464`. */
export function parseListenAddress (text: string, source: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d+)$/.exec(text)
  const host = match?.[1] ?? match?.[2]
  const port = Number(match?.[3])
  const ipv6 = match?.[1] !== undefined
  if (host === undefined || isIP(host) !== (ipv6 ? 6 : 4) || !Number.isSafeInteger(port) || port > 65535) {
    throw new ConfigError(`${source} must be HOST:PORT with an IP address and a port from 0 to 65535, such as 127.0.0.1:9464 or [::1]:9464, got "${text}"`)
  }
  return { host, port }
}

export function parseByteCount (text: string, source: string): bigint {
  const value = /^\d+$/.test(text) ? BigInt(text) : -1n
  if (value < 1n || value > UNLIMITED_DATA_BYTES) {
    throw new ConfigError(`${source} must be a number of bytes from 1 to ${UNLIMITED_DATA_BYTES}, got "${text}"`)
  }
  return value
}

/** A Redis URL; the message never repeats it, as it may carry a password. */
export function parseRedisUrl (text: string, source: string): string {
  let url: URL | undefined
  try {
    url = new URL(text)
  } catch {
    url = undefined
  }
  if (url === undefined || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '') {
    throw new ConfigError(`${source} must be a Redis URL such as redis://127.0.0.1:6379 or rediss://user:password@redis.example.com:6380/0`)
  }
  return text
}
