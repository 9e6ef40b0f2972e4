/**
 * The redis-server a fleet run of `pnpm bench:rooms` shares between its relays: on
 * a free loopback port, without persistence, in its own process group (killed with
 * every other child by processes.ts `killAll`). Its counters are read with INFO;
 * the bench's own INFO calls are left out of every count.
 */
import { createServer } from 'node:net'
import { createInterface } from 'node:readline'
import { Redis } from 'ioredis'
import { STDERR_TAIL_LINES, STOP_TIMEOUT_MS } from '../constants.js'
import { cpuSecondsOf, spawnTracked } from '../processes.js'
import { REDIS_START_TIMEOUT_MS } from './constants.js'
import type { ChildProcess } from 'node:child_process'

export const REDIS_MISSING = 'redis-server is not installed: run `apt-get install -y redis-server` (scripts/setup.sh installs it)'

/** What INFO says at one moment. */
export interface RedisCounters {
  /** total_commands_processed: every command, including those a Lua script runs. */
  totalCommands: number
  /** Calls per command (INFO commandstats), e.g. { set: 12, eval: 3 }. */
  calls: Record<string, number>
  /** used_memory: bytes Redis allocated for its data and buffers. */
  usedMemory: number
}

async function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => { resolve(port) })
    })
  })
}

function delay (ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

export class RedisProcess {
  readonly output: string[] = []
  exit: { code: number | null, signal: NodeJS.Signals | null } | undefined
  private readonly exited: Promise<void>
  private readonly client: Redis

  private constructor (readonly child: ChildProcess, readonly port: number) {
    this.exited = new Promise(resolve => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal }
        resolve()
      })
    })
    for (const stream of [child.stdout, child.stderr]) {
      if (stream !== null) {
        createInterface({ input: stream }).on('line', (line) => {
          this.output.push(line)
          if (this.output.length > STDERR_TAIL_LINES) {
            this.output.shift()
          }
        })
      }
    }
    // one connection for INFO; no ready check (it would be one more INFO) and no retries
    this.client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, enableOfflineQueue: true })
    this.client.on('error', () => {})
  }

  get url (): string {
    return `redis://127.0.0.1:${this.port}`
  }

  get alive (): boolean {
    return this.exit === undefined
  }

  /** The command line, for the results. */
  get command (): string[] {
    return ['redis-server', ...RedisProcess.args(this.port)]
  }

  private static args (port: number): string[] {
    return ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no']
  }

  /** Starts one on a free port and waits until it accepts connections. */
  static async start (): Promise<RedisProcess> {
    const port = await freePort()
    const child = spawnTracked('redis-server', RedisProcess.args(port))
    const redis = new RedisProcess(child, port)
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      await new Promise<void>((resolve, reject) => {
        const onLine = (line: string): void => {
          if (line.includes('Ready to accept connections')) {
            resolve()
          }
        }
        if (child.stdout !== null) {
          createInterface({ input: child.stdout }).on('line', onLine)
        }
        child.once('error', (err) => { reject(new Error(`${REDIS_MISSING} (${err.message})`)) })
        void redis.exited.then(() => { reject(new Error(`redis-server exited before it was ready: ${redis.output.join(' | ')}`)) })
        timer = setTimeout(() => { reject(new Error(`redis-server not ready within ${REDIS_START_TIMEOUT_MS} ms`)) }, REDIS_START_TIMEOUT_MS)
      })
      await redis.client.connect()
    } catch (err: unknown) {
      await redis.stop()
      throw err
    } finally {
      clearTimeout(timer)
    }
    return redis
  }

  /** INFO stats, commandstats and memory, with this bench's own INFO calls left out. */
  async counters (): Promise<RedisCounters> {
    const info = await this.client.call('INFO', 'stats', 'commandstats', 'memory')
    if (typeof info !== 'string') {
      throw new Error('INFO did not answer with text')
    }
    const field = (name: string): number => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? Number.NaN)
    const calls: Record<string, number> = {}
    for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      const [, command = '', count = '0'] = match
      if (command !== 'info') {
        calls[command] = Number(count)
      }
    }
    // total_commands_processed counts every INFO, this one excluded (it is counted once it is done)
    const infoCalls = Number(/^cmdstat_info:calls=(\d+)/m.exec(info)?.[1] ?? '0')
    return { totalCommands: field('total_commands_processed') - infoCalls, calls, usedMemory: field('used_memory') }
  }

  cpuSeconds (): number | undefined {
    return this.alive ? cpuSecondsOf(this.child.pid) : undefined
  }

  /** SIGTERM to its group, SIGKILL after STOP_TIMEOUT_MS. */
  async stop (): Promise<void> {
    this.client.disconnect()
    const pid = this.child.pid
    if (!this.alive || pid === undefined) {
      return
    }
    const kill = (signal: NodeJS.Signals): void => {
      try {
        process.kill(-pid, signal)
      } catch {
        // already gone
      }
    }
    kill('SIGTERM')
    await Promise.race([this.exited, delay(STOP_TIMEOUT_MS)])
    kill('SIGKILL')
    await this.exited
  }
}

/** `after - before` per command, commands with no calls in between left out. */
export function callsBetween (before: RedisCounters, after: RedisCounters): Record<string, number> {
  const delta: Record<string, number> = {}
  for (const [command, count] of Object.entries(after.calls)) {
    const calls = count - (before.calls[command] ?? 0)
    if (calls > 0) {
      delta[command] = calls
    }
  }
  return delta
}
