/**
 * Which "source" a connection counts against for the per-source limits: its IPv4
 * address, or the /64 prefix of its IPv6 address. One IPv6 host usually holds a
 * whole /64 (SLAAC, privacy addresses), so counting single IPv6 addresses would let
 * one host take every slot by rotating addresses.
 */
import { isIPv4, isIPv6 } from 'node:net'

/** Bits of an IPv6 address that name one subscriber's network (RFC 6177 allots a /64 or more). */
const IPV6_SOURCE_PREFIX_GROUPS = 4

export function sourceOf (address: string | undefined): string {
  if (address === undefined || address === '') {
    return 'unknown'
  }
  // dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped?.[1] !== undefined) {
    return mapped[1]
  }
  if (isIPv4(address)) {
    return address
  }
  if (!isIPv6(address)) {
    return address
  }
  return `${expandIPv6(address).slice(0, IPV6_SOURCE_PREFIX_GROUPS).join(':')}::/64`
}

/** The eight 16-bit groups of an IPv6 address, zero-compressed parts filled in. */
function expandIPv6 (address: string): string[] {
  const withoutZone = address.split('%')[0] ?? address
  const [head = '', tail] = withoutZone.split('::')
  const headGroups = head === '' ? [] : head.split(':')
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':')
  const missing = 8 - headGroups.length - tailGroups.length
  const groups = [...headGroups, ...Array<string>(Math.max(missing, 0)).fill('0'), ...tailGroups]
  return groups.map(group => (group === '' ? '0' : group.toLowerCase().replace(/^0+(?=.)/, '')))
}
