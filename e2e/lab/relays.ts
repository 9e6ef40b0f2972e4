/**
 * Relays a test can kill and bring back. A restarted relay uses the same key file and
 * port, so it keeps its peer ID and multiaddr: to the peers it is the same relay,
 * gone for a while.
 */
import { join } from 'node:path'
import type { LabProcess } from './exec.js'
import type { Lab } from './netns.js'
import { RELAY_PORT, startRelay } from './services.js'
import type { RelayHandle } from './services.js'

export class RestartableRelay implements RelayHandle {
  readonly multiaddr: string
  /** 1 for the first relay of a lab, 2 for the second... */
  readonly index: number
  /** Its TCP port in namespace A; the same after a restart. */
  readonly port: number
  private readonly lab: Lab
  private readonly keyFile: string
  private readonly generations: LabProcess[]

  private constructor (lab: Lab, index: number, port: number, keyFile: string, first: RelayHandle) {
    this.lab = lab
    this.index = index
    this.port = port
    this.keyFile = keyFile
    this.multiaddr = first.multiaddr
    this.generations = [first.process]
  }

  /**
   * Start relay number `index` (from 1) in namespace A. The first keeps the fixed port
   * and key file of the single-relay lab, so existing tests see no difference.
   */
  static async start (lab: Lab, index: number): Promise<RestartableRelay> {
    const port = RELAY_PORT + index - 1
    const keyFile = join(lab.dir, index === 1 ? 'relay.key' : `relay-${index}.key`)
    const handle = await startRelay(lab, { port, keyFile, name: RestartableRelay.nameOf(index, 1) })
    return new RestartableRelay(lab, index, port, keyFile, handle)
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
      name: RestartableRelay.nameOf(this.index, this.generations.length + 1)
    })
    this.generations.push(handle.process)
    if (handle.multiaddr !== this.multiaddr) {
      throw new Error(`relay ${this.index} came back as ${handle.multiaddr}, not ${this.multiaddr}`)
    }
  }

  /** The output of every start of this relay, for failure reports. */
  output (): string {
    return this.generations.map((p) => p.output()).join('\n')
  }
}
