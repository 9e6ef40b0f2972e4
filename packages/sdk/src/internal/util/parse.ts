import { peerIdFromString } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { LifelineError } from '../../errors.js'

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

export interface RelayAddress {
  multiaddr: Multiaddr
  peerId: PeerId
  /** The configured string, for status reports. */
  text: string
}

/** A relay address must be a multiaddr ending in `/p2p/<relay peer ID>`, not itself a circuit. */
export function parseRelayAddress (value: unknown): RelayAddress {
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
  return { multiaddr: ma, peerId: parsePeerId(last.value), text: value }
}

/** The relay's peer ID in a circuit address (`.../p2p/<relay>/p2p-circuit/...`), if any. */
export function relayOf (ma: Multiaddr): string | undefined {
  const components = ma.getComponents()
  const circuit = components.findIndex(c => c.name === 'p2p-circuit')
  const relay = circuit > 0 ? components[circuit - 1] : undefined
  return relay?.name === 'p2p' ? relay.value : undefined
}
