/**
 * The bench's relays: lifeline-relay processes in namespace A that a fault scenario can
 * SIGKILL and the runner starts again with the same key file and port, so the relay
 * keeps its peer ID and multiaddr for the next scenario.
 */
import { join } from 'node:path'
import type { LabProcess } from '../../lab/exec.js'
import type { Lab } from '../../lab/netns.js'
import { E2E_DIR, RELAY_PORT, TLS_RELAY_PORT, WEBRTC_DIRECT_PORT } from '../../lab/services.js'
import type { TlsFiles } from '../../lab/services.js'

const RELAY_CLI = join(E2E_DIR, '..', 'packages', 'relay', 'dist', 'cli.js')
const READY_TIMEOUT_MS = 20_000

export class BenchRelay {
  /** Its WebSocket multiaddr never changes: same key, same port. */
  multiaddr = ''
  /** Every address it printed (with `tls`, WebRTC-Direct too). */
  multiaddrs: string[] = []
  private current: LabProcess | undefined
  private starts = 0

  /**
   * Relay `index` (from 1) listens on RELAY_PORT + index - 1; with `tls`, on
   * TLS_RELAY_PORT, serving WSS there and WebRTC-Direct on UDP WEBRTC_DIRECT_PORT.
   */
  constructor (private readonly lab: Lab, readonly index: number, private readonly tls?: TlsFiles) {}

  get port (): number {
    return this.tls === undefined ? RELAY_PORT + this.index - 1 : TLS_RELAY_PORT
  }

  get running (): boolean {
    return this.current?.running === true
  }

  /** Start it (again); the first start creates its key file. */
  async start (): Promise<void> {
    this.starts += 1
    const child = this.lab.spawnIn(this.lab.nsA, `relay ${this.index}${this.starts > 1 ? ` (start ${this.starts})` : ''}`, process.execPath, [
      RELAY_CLI, '--host', this.lab.ipA, '--port', String(this.port), '--key', join(this.lab.dir, `bench-relay-${this.index}.key`),
      ...(this.tls === undefined ? [] : ['--tls-cert', this.tls.cert, '--tls-key', this.tls.key, '--webrtc-direct', String(WEBRTC_DIRECT_PORT)])
    ])
    this.current = child
    const line = (await child.waitForLine(/^\/ip4\/\S+\/tcp\/\d+\/(tls\/)?ws\/p2p\/\S+$/, READY_TIMEOUT_MS)).trim()
    this.multiaddrs = child.lines().map((l) => l.trim()).filter((l) => l.startsWith('/'))
    if (this.multiaddr !== '' && line !== this.multiaddr) {
      throw new Error(`relay ${this.index} came back as ${line}, not ${this.multiaddr}`)
    }
    this.multiaddr = line
  }

  /** SIGKILL: no goodbye; the kernel closes its sockets at once. Returns once the signal is sent. */
  kill (): void {
    this.current?.kill('SIGKILL')
  }

  async exited (): Promise<void> {
    await this.current?.exited
  }
}
