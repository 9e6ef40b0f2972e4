/**
 * What the in-process relay tests share: a temporary directory for key files, the
 * relays and peers a test started, and stopping them all afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Libp2p } from 'libp2p'
import { createRelay, defaultRelayConfig, type Relay, type RelayConfig } from '../src/index.js'

export class RelayTestbed {
  /** A fresh directory per setUp(), removed by removeDir(). */
  dir = ''
  readonly relays: Relay[] = []
  readonly peers: Libp2p[] = []

  async setUp (prefix: string): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), prefix))
  }

  /** A relay on an ephemeral loopback port with its key in `dir`, stopped by stopAll(). */
  async startRelay (config: Partial<RelayConfig> = {}): Promise<Relay> {
    const relay = await createRelay({ ...defaultRelayConfig(), port: 0, keyFile: join(this.dir, 'relay.key'), ...config })
    this.relays.push(relay)
    return relay
  }

  /** Stops the peers, then the relays a test started. */
  async stopAll (): Promise<void> {
    await Promise.all(this.peers.splice(0).map(async peer => { await peer.stop() }))
    await Promise.all(this.relays.splice(0).map(async relay => { await relay.stop() }))
  }

  async removeDir (): Promise<void> {
    await rm(this.dir, { recursive: true, force: true })
  }

  async tearDown (): Promise<void> {
    await this.stopAll()
    await this.removeDir()
  }
}
