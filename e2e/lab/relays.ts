/**
 * Relays a test can kill and bring back. A restarted relay uses the same key file and
 * port, so it keeps its peer ID and multiaddr: to the peers it is the same relay,
 * gone for a while.
 */
import { join } from 'node:path'
import type { LabProcess } from './exec.js'
import type { Lab } from './netns.js'
import { RELAY_PORT, TLS_RELAY_PORT, WEBRTC_DIRECT_PORT, startRelay } from './services.js'
import type { RelayHandle, TlsFiles } from './services.js'

export class RestartableRelay implements RelayHandle {
  readonly multiaddr: string
  readonly multiaddrs: string[]
  /** 1 for the first relay of a lab, 2 for the second... */
  readonly index: number
  /** Its TCP port in namespace A; the same after a restart. */
  readonly port: number
  private readonly lab: Lab
  private readonly keyFile: string
  private readonly args: string[]
  private readonly generations: LabProcess[]

  private constructor (lab: Lab, index: number, port: number, keyFile: string, args: string[], first: RelayHandle) {
    this.lab = lab
    this.index = index
    this.port = port
    this.keyFile = keyFile
    this.args = args
    this.multiaddr = first.multiaddr
    this.multiaddrs = first.multiaddrs
    this.generations = [first.process]
  }

  /**
   * Start relay number `index` (from 1) in namespace A. The first keeps the fixed port
   * and key file of the single-relay lab, so existing tests see no difference. With
   * `tls` it serves WSS on TCP 443 and WebRTC-Direct on UDP 4443 (444 and 4444 for
   * the second...); `extraArgs` go to the CLI as they are (e.g. `--redis URL`).
   */
  static async start (lab: Lab, index: number, tls?: TlsFiles, extraArgs: string[] = []): Promise<RestartableRelay> {
    const port = (tls === undefined ? RELAY_PORT : TLS_RELAY_PORT) + index - 1
    const keyFile = join(lab.dir, index === 1 ? 'relay.key' : `relay-${index}.key`)
    const args = [
      ...(tls === undefined ? [] : ['--tls-cert', tls.cert, '--tls-key', tls.key, '--webrtc-direct', String(WEBRTC_DIRECT_PORT + index - 1)]),
      ...extraArgs
    ]
    const handle = await startRelay(lab, { port, keyFile, args, name: RestartableRelay.nameOf(index, 1) })
    return new RestartableRelay(lab, index, port, keyFile, args, handle)
  }

  private static nameOf (index: number, generation: number): string {
    return `relay ${index}${generation > 1 ? ` (start ${generation})` : ''}`
  }

  /** The relay process running now (or the last one, after `kill()`). */
  get process (): LabProcess {
    const current = this.generations.at(-1)
    if (current === undefined) {
      throw new Error('a relay has at least one process')
    }
    return current
  }

  /** The relay's peer ID, the last component of its multiaddr. */
  get peerId (): string {
    return this.multiaddr.split('/p2p/').at(-1) ?? ''
  }

  get running (): boolean {
    return this.process.running
  }

  /** SIGKILL: no goodbye to anyone; the kernel closes its sockets. Resolves once it has exited. */
  async kill (): Promise<void> {
    this.process.kill('SIGKILL')
    await this.process.exited
  }

  /** Start it again with the same key file and port; fails unless it prints the same multiaddr. */
  async restart (): Promise<void> {
    if (this.running) {
      throw new Error(`relay ${this.index} is still running`)
    }
    const handle = await startRelay(this.lab, {
      port: this.port,
      keyFile: this.keyFile,
      args: this.args,
      name: RestartableRelay.nameOf(this.index, this.generations.length + 1)
    })
    this.generations.push(handle.process)
    if (handle.multiaddrs.join(' ') !== this.multiaddrs.join(' ')) {
      throw new Error(`relay ${this.index} came back as ${handle.multiaddrs.join(' ')}, not ${this.multiaddrs.join(' ')}`)
    }
  }

  /** The output of every start of this relay, for failure reports. */
  output (): string {
    return this.generations.map((p) => p.output()).join('\n')
  }
}
