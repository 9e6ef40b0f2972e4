/**
 * Child processes for the lab: one-shot commands, and long-running processes whose
 * output is kept for readiness checks and for diagnostics when a test fails.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'

/** Lines of output kept per long-running process for failure reports. */
const KEPT_LINES = 400

export interface ExecOptions {
  /** Written to the command's stdin. */
  input?: string
  /** Resolve with the output even when the command exits non-zero. */
  allowFailure?: boolean
  /** Working directory; the runner's when absent. */
  cwd?: string
}

/** Run a command to completion; rejects with its stderr unless `allowFailure`. */
export async function exec (command: string, args: string[], options: ExecOptions = {}): Promise<string> {
  const child = spawn(command, args, { cwd: options.cwd, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  if (child.stdin !== null) {
    // A command that exits without reading its input shows up in its exit code, not as EPIPE.
    child.stdin.on('error', () => undefined)
    child.stdin.end(options.input)
  }
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', resolve)
  })
  if (code !== 0 && options.allowFailure !== true) {
    throw new Error(`${command} ${args.join(' ')} exited with ${String(code)}: ${stderr.trim()}`)
  }
  return stdout
}

export class LabProcess {
  readonly name: string
  readonly child: ChildProcess
  /** Resolves with the exit code (or null after a signal) once the process has exited. */
  readonly exited: Promise<number | null>
  private readonly kept: string[] = []
  private readonly stdoutLines: string[] = []
  private readonly lineWaiters = new Set<(line: string) => void>()
  private exitCode: number | null | undefined

  constructor (name: string, command: string, args: string[]) {
    this.name = name
    this.child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    this.exited = new Promise((resolve) => {
      this.child.once('error', (err) => {
        this.keep('error', err.message)
        this.exitCode = null
        resolve(null)
      })
      this.child.once('exit', (code, signal) => {
        this.keep('exit', `code ${String(code)} signal ${String(signal)}`)
        this.exitCode = code
        resolve(code)
      })
    })
    if (this.child.stdout === null || this.child.stderr === null) {
      throw new Error('stdout and stderr are piped')
    }
    this.readLines(this.child.stdout, 'out', true)
    this.readLines(this.child.stderr, 'err', false)
  }

  get pid (): number {
    if (this.child.pid === undefined) {
      throw new Error(`${this.name} did not start`)
    }
    return this.child.pid
  }

  get running (): boolean {
    return this.exitCode === undefined
  }

  /**
   * Resolves with the first stdout line matching `pattern`, including lines already
   * seen; with `skip`, the first after that many matching lines.
   */
  async waitForLine (pattern: RegExp, timeoutMs: number, skip = 0): Promise<string> {
    let matched = 0
    const seen = this.stdoutLines.find((line) => pattern.test(line) && matched++ >= skip)
    if (seen !== undefined) {
      return seen
    }
    let onLine: ((line: string) => void) | undefined
    let timer: NodeJS.Timeout | undefined
    try {
      return await new Promise<string>((resolve, reject) => {
        onLine = (line) => {
          if (pattern.test(line) && matched++ >= skip) {
            resolve(line)
          }
        }
        this.lineWaiters.add(onLine)
        timer = setTimeout(() => {
          reject(new Error(`${this.name} printed no line matching ${String(pattern)} within ${timeoutMs} ms\n${this.output()}`))
        }, timeoutMs)
        this.exited.then(() => {
          reject(new Error(`${this.name} exited before printing ${String(pattern)}\n${this.output()}`))
        }, reject)
      })
    } finally {
      clearTimeout(timer)
      if (onLine !== undefined) {
        this.lineWaiters.delete(onLine)
      }
    }
  }

  /** Stdout lines printed so far. */
  lines (): string[] {
    return [...this.stdoutLines]
  }

  /** The last lines of stdout and stderr, for failure reports. */
  output (): string {
    return this.kept.join('\n')
  }

  kill (signal: NodeJS.Signals): void {
    if (this.running) {
      this.child.kill(signal)
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop (graceMs = 2000): Promise<void> {
    if (!this.running) {
      return
    }
    this.kill('SIGTERM')
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => { resolve('late') }, graceMs) })
    try {
      if (await Promise.race([this.exited, late]) === 'late') {
        this.kill('SIGKILL')
        await this.exited
      }
    } finally {
      clearTimeout(timer)
    }
  }

  private keep (stream: string, line: string): void {
    this.kept.push(`[${this.name} ${stream}] ${line}`)
    if (this.kept.length > KEPT_LINES) {
      this.kept.shift()
    }
  }

  private readLines (stream: NodeJS.ReadableStream, label: string, isStdout: boolean): void {
    let partial = ''
    stream.setEncoding('utf8')
    stream.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n')
      partial = parts.pop() ?? ''
      for (const line of parts) {
        this.keep(label, line)
        if (isStdout) {
          this.stdoutLines.push(line)
          for (const waiter of this.lineWaiters) {
            waiter(line)
          }
        }
      }
    })
  }
}
