/**
 * The allowed-peers list read again (what SIGHUP does): newly listed peers get in,
 * peers taken off the list lose their connections, a broken file changes nothing.
 */
import './node-compat.js'
import { multiaddr } from '@multiformats/multiaddr'
import type { Libp2p } from 'libp2p'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startDialer } from '../test/hostile/clients.js'
import { RelayTestbed } from '../test/testbed.js'

const bed = new RelayTestbed()

beforeEach(async () => { await bed.setUp('lifeline-relay-allow-') })
afterEach(async () => { await bed.tearDown() })

async function dialer (): Promise<Libp2p> {
  const peer = await startDialer()
  bed.peers.push(peer)
  return peer
}

/** True when `peer` can open a connection to the relay that stays open. */
async function admitted (peer: Libp2p, relayAddr: string): Promise<boolean> {
  try {
    const connection = await peer.dial(multiaddr(relayAddr), { signal: AbortSignal.timeout(10_000) })
    await connection.newStream('/ipfs/ping/1.0.0', { signal: AbortSignal.timeout(10_000) })
    return true
  } catch {
    return false
  }
}

describe('the allowed-peers list, read again', () => {
  it('lets newly listed peers in, closes the connections of peers taken off, and keeps the old list when the file breaks', async () => {
    const [a, b] = [await dialer(), await dialer()]
    const file = join(bed.dir, 'peers.txt')
    await writeFile(file, `${a.peerId.toString()}\n`)
    const relay = await bed.startRelay({ allowPeersFile: file })
    const addr = relay.multiaddrs[0] ?? ''
    expect(await admitted(a, addr)).toBe(true)
    expect(await admitted(b, addr)).toBe(false)

    await writeFile(file, `# b replaces a\n${b.peerId.toString()}\n`)
    expect(await relay.reloadAllowlist()).toBe(1)
    expect(await admitted(b, addr)).toBe(true)
    await expect.poll(() => a.getConnections().filter(c => c.status === 'open').length).toBe(0)

    await writeFile(file, 'not a peer id\n')
    await expect(relay.reloadAllowlist()).rejects.toMatchObject({ code: 'CONFIG_INVALID' })
    expect(b.getConnections().filter(c => c.status === 'open').length).toBeGreaterThan(0)
    expect(await admitted(a, addr)).toBe(false)
  })
})
