/**
 * A real redis-server for the rooms tests, on a free loopback port, without
 * persistence. A machine without redis-server fails these tests with a message that
 * says how to install it, rather than skipping them: the Redis directory is only
 * tested against a real Redis.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'

export const REDIS_MISSING = 'redis-server is not installed, and the rooms tests run against a real one: run `apt-get install -y redis-server` (scripts/setup.sh installs it)'

export interface RedisServer {
  port: number
  url: string
  /** Ends the process at once (SIGKILL), as a crash would. */
  kill(): Promise<void>
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>
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

/** Throws REDIS_MISSING when redis-server cannot be run. */
export function requireRedisServer (): void {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(REDIS_MISSING)
  }
}

async function launch (port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  await new Promise<void>((resolve, reject) => {
    const onData = (data: Buffer): void => {
      output += data.toString()
      if (output.includes('Ready to accept connections')) {
        child.stdout.off('data', onData)
        resolve()
      }
    }
    child.stdout.on('data', onData)
    child.once('error', err => { reject(new Error(`${REDIS_MISSING} (${err.message})`)) })
    child.once('exit', code => { reject(new Error(`redis-server exited (${String(code)}) before it was ready: ${output}`)) })
  })
  return child
}

async function kill (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return
  }
  const exited = new Promise(resolve => { child.once('exit', resolve) })
  child.kill('SIGKILL')
  await exited
}

/** Starts one; every server started is stopped by stopRedisServers(). */
export async function startRedisServer (): Promise<RedisServer> {
  requireRedisServer()
  const port = await freePort()
  let child = await launch(port)
  running.add(() => kill(child))
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill: async () => { await kill(child) },
    restart: async () => {
      await kill(child)
      child = await launch(port)
    }
  }
}

const running = new Set<() => Promise<void>>()

export async function stopRedisServers (): Promise<void> {
  const stops = [...running]
  running.clear()
  await Promise.all(stops.map(async stop => { await stop() }))
}
