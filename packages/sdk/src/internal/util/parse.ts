import { peerIdFromString } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { LifelineError } from '../../errors.js'
import type { RelayTransport } from '../../types.js'

export function parsePeerId (value: unknown): PeerId {
  if (typeof value !== 'string' || value.length === 0) {
    throw new LifelineError('INVALID_PEER_ID', 'A peer ID must be a non-empty string, e.g. "12D3KooW..."')
  }
  try {
    return peerIdFromString(value)
  } catch (err) {
    throw new LifelineError('INVALID_PEER_ID', `"${value.slice(0, 80)}" is not a peer ID: expected base58btc ("12D3KooW...") or a CID`, { cause: err })
  }
}

/** One configured address of a relay. */
export interface RelayDialAddress {
  multiaddr: Multiaddr
  /** The configured string, for status reports. */
  text: string
  transport: RelayTransport
}

/** A relay: one peer ID, one or more addresses (one per transport it serves). */
export interface RelayAddress {
  peerId: PeerId
  /** Every configured address, in the order they are dialled (see sortByPreference). */
  addresses: RelayDialAddress[]
  /** The preferred address (the first of `addresses`): used in circuit addresses and reports. */
  multiaddr: Multiaddr
  /** The preferred address as configured. */
  text: string
}

/** The transport a relay address dials, from its protocols (`/tls/ws` is WebSockets over TLS). */
export function transportOf (ma: Multiaddr): RelayTransport {
  return transportOfProtocols(ma.getComponents().map(c => c.name))
}

function transportOfProtocols (names: readonly string[]): RelayTransport {
  if (names.includes('wss') || (names.includes('tls') && names.includes('ws'))) {
    return 'wss'
  }
  for (const name of ['ws', 'webrtc-direct'] as const) {
    if (names.includes(name)) {
      return name
    }
  }
  return 'other'
}

/** A relay address must be a multiaddr ending in `/p2p/<relay peer ID>`, not itself a circuit. */
function parseDialAddress (value: unknown): RelayDialAddress & { peerId: PeerId } {
  if (typeof value !== 'string') {
    throw new LifelineError('INVALID_MULTIADDR', 'A relay address must be a multiaddr string')
  }
  let ma: Multiaddr
  try {
    ma = multiaddr(value)
  } catch (err) {
    throw new LifelineError('INVALID_MULTIADDR', `"${value.slice(0, 120)}" is not a multiaddr (expected e.g. /dns4/relay.example.com/tcp/443/wss/p2p/12D3KooW...)`, { cause: err })
  }
  const components = ma.getComponents()
  if (components.some(c => c.name === 'p2p-circuit')) {
    throw new LifelineError('INVALID_MULTIADDR', `Relay address ${value} must not contain /p2p-circuit`)
  }
  const last = components.at(-1)
  if (last?.name !== 'p2p' || last.value === undefined) {
    throw new LifelineError('INVALID_MULTIADDR', `Relay address ${value} must end with /p2p/<relay peer ID>`)
  }
  if (components.some(c => c.name === 'webtransport')) {
    throw new LifelineError('INVALID_MULTIADDR', `Relay address ${value} is WebTransport, which the SDK does not dial (no Lifeline relay serves it): give the relay's WSS or WebRTC-Direct address`)
  }
  if (components.some(c => c.name === 'webrtc-direct') && !components.some(c => c.name === 'certhash')) {
    throw new LifelineError('INVALID_MULTIADDR', `Relay address ${value} is WebRTC-Direct without /certhash/: copy the full address the relay prints at start`)
  }
  return { multiaddr: ma, peerId: parsePeerId(last.value), text: value, transport: transportOf(ma) }
}

/**
 * The configured relay addresses as relays: addresses with the same peer ID are one
 * relay reachable over several transports, dialled in `preference` order (Happy
 * Eyeballs, see relay/connect.ts), addresses of one transport in the order given.
 * Relays keep the order of their first address.
 */
export function parseRelays (values: readonly unknown[], preference: readonly RelayTransport[]): RelayAddress[] {
  const byPeer = new Map<string, { peerId: PeerId, addresses: RelayDialAddress[] }>()
  for (const value of values) {
    const { peerId, ...address } = parseDialAddress(value)
    const key = peerId.toString()
    const relay = byPeer.get(key) ?? { peerId, addresses: [] }
    if (!relay.addresses.some(a => a.multiaddr.equals(address.multiaddr))) {
      relay.addresses.push(address)
    }
    byPeer.set(key, relay)
  }
  return [...byPeer.values()].map(({ peerId, addresses }) => {
    // every relay in the map got its first address when it was added
    const sorted = sortByPreference(addresses, preference) as [RelayDialAddress, ...RelayDialAddress[]]
    return { peerId, addresses: sorted, multiaddr: sorted[0].multiaddr, text: sorted[0].text }
  })
}

/** One relay with one address. */
export function parseRelayAddress (value: unknown): RelayAddress {
  const { peerId, ...address } = parseDialAddress(value)
  return { peerId, addresses: [address], multiaddr: address.multiaddr, text: address.text }
}

/** Addresses by transport preference (unlisted transports last), stable within one transport. */
export function sortByPreference<T extends { transport: RelayTransport }> (addresses: readonly T[], preference: readonly RelayTransport[]): T[] {
  const rank = (t: RelayTransport): number => {
    const i = preference.indexOf(t)
    return i === -1 ? preference.length : i
  }
  return [...addresses].sort((a, b) => rank(a.transport) - rank(b.transport))
}

/** How our side reaches the relay of a circuit address: the transport before `/p2p-circuit`. */
export function relayLegOf (ma: Multiaddr): RelayTransport | undefined {
  const components = ma.getComponents()
  const circuit = components.findIndex(c => c.name === 'p2p-circuit')
  return circuit < 0 ? undefined : transportOfProtocols(components.slice(0, circuit).map(c => c.name))
}

/** The relay's peer ID in a circuit address (`.../p2p/<relay>/p2p-circuit/...`), if any. */
export function relayOf (ma: Multiaddr): string | undefined {
  const components = ma.getComponents()
  const circuit = components.findIndex(c => c.name === 'p2p-circuit')
  const relay = circuit > 0 ? components[circuit - 1] : undefined
  return relay?.name === 'p2p' ? relay.value : undefined
}
