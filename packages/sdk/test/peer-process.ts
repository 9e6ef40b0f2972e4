/**
 * A Lifeline peer in a child process, joined to a room, for tests that kill it
 * without a word (SIGKILL): its connections die with it, as when a browser tab is
 * closed or a laptop loses its network.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const CHILD = fileURLToPath(new URL('./room-child.mjs', import.meta.url))

export interface PeerProcess {
  peerId: string
  process: ChildProcess
  kill(): Promise<void>
}

const running = new Set<ChildProcess>()

export async function spawnPeerProcess (relay: string, namespace: string, room: string): Promise<PeerProcess> {
  const child = spawn(process.execPath, [CHILD, relay, namespace, room], { stdio: ['ignore', 'pipe', 'inherit'] })
  running.add(child)
  const lines = createInterface({ input: child.stdout })
  const peerId = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve)
    child.once('exit', code => { reject(new Error(`the peer process exited with ${String(code)} before joining`)) })
  })
  return {
    peerId,
    process: child,
    kill: async () => {
      running.delete(child)
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise(resolve => child.once('exit', resolve))
        child.kill('SIGKILL')
        await exited
      }
    }
  }
}

/** Kill every peer process still running (afterAll). */
export function killPeerProcesses (): void {
  for (const child of running) {
    child.kill('SIGKILL')
  }
  running.clear()
}
