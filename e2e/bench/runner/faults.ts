/**
 * The faults a bench page asks for (see FaultKind in shared.ts), done by the runner:
 * blocking UDP in namespace B with the lab's nftables rules, or SIGKILLing the relay
 * that carries a relayed link. Which relay that is, the page cannot tell through the
 * SDK's public API, so the runner finds out: an nftables counter per relay port in
 * namespace A counts the bytes sent to each relay, and over a short window of the
 * page's steady message stream the relay carrying it receives far more than the others
 * (which only see pings). The runner answers in the session's mailbox, through the
 * bench server's Unix socket, and after the scenario restores everything.
 */
import { request } from 'node:http'
import type { Lab } from '../../lab/netns.js'
import type { FaultDone, FaultRequest } from '../shared.js'
import type { BenchRelay } from './relays.js'

const TABLE = 'lifeline_bench'
/** Counting window: at one message per 5 ms, the carrying relay gets kilobytes in it. */
const SAMPLE_MS = 400

function counterName (relay: BenchRelay): string {
  return `relay${relay.index}`
}

/** The bytes each relay port sends (idle scenarios count both directions). */
function sentCounterName (relay: BenchRelay): string {
  return `relay${relay.index}out`
}

async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => { setTimeout(resolve, ms) })
}

export class Faults {
  private udpBlocked = false
  private readonly killed = new Set<BenchRelay>()

  constructor (private readonly lab: Lab, private readonly relays: BenchRelay[], private readonly socket: string) {}

  /**
   * Counters of the bytes each relay port receives and sends in namespace A (from and
   * to both browsers): every packet once, loopback ones included, IP and TCP headers too.
   */
  async install (): Promise<void> {
    const rules = [
      `table inet ${TABLE} {`,
      ...this.relays.map((relay) => `  counter ${counterName(relay)} {}`),
      ...this.relays.map((relay) => `  counter ${sentCounterName(relay)} {}`),
      '  chain input {',
      '    type filter hook input priority filter; policy accept;',
      ...this.relays.map((relay) => `    tcp dport ${relay.port} counter name "${counterName(relay)}"`),
      '  }',
      '  chain output {',
      '    type filter hook output priority filter; policy accept;',
      ...this.relays.map((relay) => `    tcp sport ${relay.port} counter name "${sentCounterName(relay)}"`),
      '  }',
      '}',
      ''
    ].join('\n')
    await this.lab.execIn(this.lab.nsA, 'nft', ['-f', '-'], rules)
  }

  async perform (session: string, fault: FaultRequest): Promise<FaultDone> {
    const done = fault.kind === 'block-udp'
      ? await this.blockUdp()
      : fault.kind === 'kill-relay' ? await this.killRelay() : await this.countRelayBytes(fault.windowMs ?? 0)
    await this.answer(session, done, fault.key ?? 'fault')
    return done
  }

  /** Unblock UDP and restart killed relays, for the next scenario. */
  async restore (): Promise<void> {
    if (this.udpBlocked) {
      await this.lab.unblockUdp(this.lab.nsB)
      this.udpBlocked = false
    }
    for (const relay of this.killed) {
      await relay.exited()
      await relay.start()
      this.killed.delete(relay)
    }
  }

  private async blockUdp (): Promise<FaultDone> {
    const startedAt = Date.now()
    this.udpBlocked = true
    await this.lab.blockUdp(this.lab.nsB)
    return { kind: 'block-udp', startedAt, at: Date.now() }
  }

  private async killRelay (): Promise<FaultDone> {
    const before = await this.relayBytes()
    await sleep(SAMPLE_MS)
    const after = await this.relayBytes()
    const relayBytes = after.map((bytes, i) => bytes - (before[i] ?? 0))
    const busiest = relayBytes.indexOf(Math.max(...relayBytes))
    const relay = this.relays[busiest]
    if (relay === undefined || !relay.running) {
      throw new Error(`no running relay to kill (bytes per relay ${relayBytes.join(', ')})`)
    }
    const startedAt = Date.now()
    this.killed.add(relay)
    relay.kill()
    return { kind: 'kill-relay', startedAt, at: Date.now(), relay: relay.index, relayBytes }
  }

  /** Relay 1's traffic, both ways, over `windowMs`. */
  private async countRelayBytes (windowMs: number): Promise<FaultDone> {
    const startedAt = Date.now()
    const before = await this.relayBytes(true)
    await sleep(windowMs)
    const after = await this.relayBytes(true)
    return { kind: 'count-relay-bytes', startedAt, at: Date.now(), bytes: (after[0] ?? 0) - (before[0] ?? 0) }
  }

  /** Bytes each relay port received so far; with `sent`, plus what it sent. */
  private async relayBytes (sent = false): Promise<number[]> {
    const listing = JSON.parse(await this.lab.execIn(this.lab.nsA, 'nft', ['-j', 'list', 'counters', 'table', 'inet', TABLE])) as {
      nftables: Array<{ counter?: { name: string, bytes: number } }>
    }
    const read = (name: string): number => listing.nftables.find((entry) => entry.counter?.name === name)?.counter?.bytes ?? 0
    return this.relays.map((relay) => read(counterName(relay)) + (sent ? read(sentCounterName(relay)) : 0))
  }

  /** Writes `done` under the session's `key`, where the page waits for it. */
  private async answer (session: string, done: FaultDone, key: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const req = request({
        socketPath: this.socket,
        method: 'POST',
        path: `/mailbox/${encodeURIComponent(session)}/${encodeURIComponent(key)}`
      }, (res) => {
        res.resume()
        if (res.statusCode === 204) {
          resolve()
        } else {
          reject(new Error(`the bench server answered ${String(res.statusCode)} to the fault report`))
        }
      })
      req.once('error', reject)
      req.end(JSON.stringify(done))
    })
  }
}
