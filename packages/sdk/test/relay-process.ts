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
  stop(): Promise<void>
}

export async function startRelay (extraArgs: string[] = []): Promise<RelayProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-relay-'))
  const child = spawn(process.execPath, [CLI, '--host', '127.0.0.1', '--port', '0', '--key', join(dir, 'relay.key'), ...extraArgs], {
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const lines = createInterface({ input: child.stdout })
  const multiaddr = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve)
    child.once('exit', code => { reject(new Error(`relay exited with ${String(code)} before listening`)) })
  })
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise(resolve => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    }
    rmSync(dir, { recursive: true, force: true })
  }
  return { multiaddr, process: child, stop }
}
