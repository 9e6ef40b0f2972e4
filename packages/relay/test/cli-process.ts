/**
 * Runs the built `lifeline-relay` CLI as a child process and collects what it
 * prints, for the tests that check its contract (stdout, stderr, exit code).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url))

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface RunningCli {
  child: ChildProcess
  /** stdout lines printed so far */
  lines: string[]
  /** resolves once `count` stdout lines were printed; rejects if the process exits first */
  firstLines(count: number): Promise<string[]>
  exited: Promise<Exit>
}

export function startCli (args: string[], env: NodeJS.ProcessEnv = {}): RunningCli {
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env }
  })
  const lines: string[] = []
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (data: string) => { stdout += data })
  child.stderr.setEncoding('utf8').on('data', (data: string) => { stderr += data })

  const lineReader = createInterface({ input: child.stdout })
  lineReader.on('line', line => { lines.push(line) })
  const exited = new Promise<Exit>(resolve => {
    child.once('close', (code, signal) => { resolve({ code, signal, stdout, stderr }) })
  })

  const firstLines = async (count: number): Promise<string[]> => new Promise((resolve, reject) => {
    const check = (): void => {
      if (lines.length >= count) {
        lineReader.off('line', check)
        resolve(lines.slice(0, count))
      }
    }
    lineReader.on('line', check)
    check()
    void exited.then(exit => {
      reject(new Error(`relay exited (${String(exit.code ?? exit.signal)}) after ${lines.length} lines: ${exit.stderr}`))
    })
  })

  return { child, lines, firstLines, exited }
}

/** Runs the CLI to completion. */
export async function runCli (args: string[], env: NodeJS.ProcessEnv = {}): Promise<Exit> {
  return startCli(args, env).exited
}

/** Ends every CLI in `running` that still runs (SIGKILL) and waits for all of them; empties the list. */
export async function killAll (running: RunningCli[]): Promise<void> {
  await Promise.all(running.splice(0).map(async cli => {
    if (cli.child.exitCode === null && cli.child.signalCode === null) {
      cli.child.kill('SIGKILL')
    }
    await cli.exited
  }))
}
