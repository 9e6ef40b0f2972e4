/**
 * A real redis-server for the fleet tests, on a free loopback port, without
 * persistence; every one started is killed by stopRedisServers(). A machine without
 * redis-server fails these tests with a message saying how to install it, rather
 * than skipping them: the fleet is only tested against a real Redis. (The relay's
 * tests have their own copy: packages do not import each other's tests.)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'

export const REDIS_MISSING = 'redis-server is not installed, and the rooms fleet tests run against a real one: run `apt-get install -y redis-server` (scripts/setup.sh installs it)'

export interface RedisServer {
  url: string
  /** Ends the process at once (SIGKILL), as a crash would. */
  kill(): Promise<void>
}

const running = new Set<ChildProcess>()

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

export async function startRedisServer (): Promise<RedisServer> {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(REDIS_MISSING)
  }
  const port = await freePort()
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe']
  })
  running.add(child)
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
  return { url: `redis://127.0.0.1:${port}`, kill: async () => { await kill(child) } }
}

async function kill (child: ChildProcess): Promise<void> {
  running.delete(child)
  if (child.exitCode !== null || child.signalCode !== null) {
    return
  }
  const exited = new Promise(resolve => child.once('exit', resolve))
  child.kill('SIGKILL')
  await exited
}

export async function stopRedisServers (): Promise<void> {
  await Promise.all([...running].map(kill))
}
