/**
 * Starts a real relay process (test/hostile/relay-child.mjs over the built package)
 * and reads its stats and memory while the suite attacks it.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { RelayStats } from '../../src/index.js'

const CHILD = fileURLToPath(new URL('./relay-child.mjs', import.meta.url))

export interface RelayProcess {
  /** `/ip4/127.0.0.1/tcp/N/ws/p2p/<id>` */
  multiaddr: string
  port: number
  pid: number
  stats(): Promise<RelayStats>
  /** Resident set size of the relay process, from /proc. */
  rssBytes(): Promise<number>
  /** True while the process has not exited. */
  alive(): boolean
  stop(): Promise<void>
}

interface ChildMessage {
  type: 'ready' | 'stats'
  multiaddrs?: string[]
  id?: number
  stats?: RelayStats
}

export async function startRelayProcess (flags: string[] = []): Promise<RelayProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'lifeline-hostile-'))
  const child: ChildProcess = fork(CHILD, ['--host', '127.0.0.1', '--port', '0', '--key', join(dir, 'relay.key'), ...flags], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  let exited = false
  const exit = new Promise<void>(resolve => { child.once('exit', () => { exited = true; resolve() }) })
  const pending = new Map<number, (stats: RelayStats) => void>()
  let nextId = 0

  const ready = new Promise<string[]>((resolve, reject) => {
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'ready' && message.multiaddrs !== undefined) {
        resolve(message.multiaddrs)
      } else if (message.type === 'stats' && message.id !== undefined && message.stats !== undefined) {
        pending.get(message.id)?.(message.stats)
        pending.delete(message.id)
      }
    })
    void exit.then(() => { reject(new Error('relay process exited before it was ready')) })
  })
  const [multiaddr] = await ready
  if (multiaddr === undefined || child.pid === undefined) {
    throw new Error('relay process reported no address')
  }

  return {
    multiaddr,
    port: Number(/\/tcp\/(\d+)\//.exec(multiaddr)?.[1]),
    pid: child.pid,
    stats: async () => new Promise<RelayStats>((resolve, reject) => {
      if (exited) {
        reject(new Error('relay process has exited'))
        return
      }
      const id = nextId++
      pending.set(id, resolve)
      child.send({ type: 'stats', id })
    }),
    rssBytes: async () => {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8')
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) * 1024
    },
    alive: () => !exited,
    stop: async () => {
      if (!exited) {
        child.send({ type: 'stop' })
        const killer = setTimeout(() => { child.kill('SIGKILL') }, 5_000)
        await exit
        clearTimeout(killer)
      }
      await rm(dir, { recursive: true, force: true })
    }
  }
}
