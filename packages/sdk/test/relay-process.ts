/**
 * Starts the real `lifeline-relay` CLI (packages/relay/dist/cli.js) on loopback for
 * integration tests, and stops it afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const CLI = fileURLToPath(new URL('../../relay/dist/cli.js', import.meta.url))

export interface RelayProcess {
  multiaddr: string
  process: ChildProcess
  /** SIGKILL: the relay dies without closing anything, as a crash would. */
  kill(): Promise<void>
  /** Start the relay again with the same key and port, so it keeps its address and peer ID. */
  restart(): Promise<void>
  stop(): Promise<void>
}

async function exited (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return
  }
  await new Promise(resolve => child.once('exit', resolve))
}

/** Rooms shared by a fleet: the relay's `--redis URL --presence-ttl-seconds N`. */
export interface FleetOptions {
  redis: string
  presenceTtlSeconds: number
}

/** The flags that put a relay into a fleet sharing `redis`. */
export function fleetArgs ({ redis, presenceTtlSeconds }: FleetOptions): string[] {
  return ['--redis', redis, '--presence-ttl-seconds', String(presenceTtlSeconds)]
}

export async function startRelay (extraArgs: string[] = []): Promise<RelayProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-relay-'))
  const key = join(dir, 'relay.key')
  let child = await launch(['--host', '127.0.0.1', '--port', '0', '--key', key, ...extraArgs])
  const first = child.multiaddr
  const port = /\/tcp\/(\d+)\//.exec(first)?.[1] ?? '0'
  const relay: RelayProcess = {
    multiaddr: first,
    process: child.process,
    kill: async () => {
      child.process.kill('SIGKILL')
      await exited(child.process)
    },
    restart: async () => {
      child = await launch(['--host', '127.0.0.1', '--port', port, '--key', key, ...extraArgs])
      relay.process = child.process
    },
    stop: async () => {
      child.process.kill('SIGTERM')
      await exited(child.process)
      rmSync(dir, { recursive: true, force: true })
    }
  }
  return relay
}

async function launch (args: string[]): Promise<{ multiaddr: string, process: ChildProcess }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const lines = createInterface({ input: child.stdout })
  const multiaddr = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve)
    child.once('exit', code => { reject(new Error(`relay exited with ${String(code)} before listening`)) })
  })
  return { multiaddr, process: child }
}
