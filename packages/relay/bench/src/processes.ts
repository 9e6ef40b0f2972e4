/**
 * The processes `pnpm bench:relay` starts: the two relays and the client workers.
 * Each is started in its own process group (detached), remembered, and killed with
 * its whole group on every way out of the bench (`killAll`), so nothing outlives it.
 * The relay's memory and CPU are read from /proc/PID.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { setPriority } from 'node:os'
import { createInterface } from 'node:readline'
import { CLOCK_TICKS_PER_SECOND, RELAY_START_TIMEOUT_MS, STDERR_TAIL_LINES, STOP_TIMEOUT_MS, WORKER_NICENESS } from './constants.js'
import type { FromWorker, ToWorker } from './messages.js'

/**
 * For the stock relay: Node 20 has no global WebSocket without this flag, and
 * @libp2p/websockets uses it to dial (a relay only listens, but gets the same
 * runtime as the repo's tests give libp2p).
 */
export const NODE_FLAGS = ['--experimental-websocket', '--disable-warning=ExperimentalWarning']

const children = new Set<ChildProcess>()

/** Kills every process group the bench started; synchronous, so it works in an 'exit' handler. */
export function killAll (): void {
  for (const child of children) {
    killGroup(child, 'SIGKILL')
  }
  children.clear()
}

/**
 * On exit, SIGINT or SIGTERM: kill every process the bench started and remove its
 * temporary directory (`tempDir()`, when there is one), saying so through `say`.
 */
export function cleanUpOnExit (tempDir: () => string | undefined, say: (text: string) => void): void {
  process.on('exit', killAll)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      say(`${signal}: killing every process the bench started`)
      killAll()
      const dir = tempDir()
      if (dir !== undefined) {
        rmSync(dir, { recursive: true, force: true })
      }
      process.exit(130)
    })
  }
}

function killGroup (child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
    return
  }
  try {
    process.kill(-child.pid, signal)
  } catch {
    // the group is already gone
  }
}

function remember (child: ChildProcess): void {
  children.add(child)
  child.once('exit', () => { children.delete(child) })
}

/**
 * Starts `command` (not a Node script: e.g. redis-server) in its own process group,
 * killed with the others by `killAll`, with stdout and stderr piped.
 */
export function spawnTracked (command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  remember(child)
  // a command that cannot start reports it through 'error'; the caller sees 'exit' too
  child.on('error', () => {})
  return child
}

/** CPU time of process `pid` so far (user + system), seconds, from /proc/PID/stat; undefined once it is gone. */
export function cpuSecondsOf (pid: number | undefined): number | undefined {
  if (pid === undefined) {
    return undefined
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // fields after the parenthesised command name; utime and stime are fields 14 and 15
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(rest[11]) + Number(rest[12])) / CLOCK_TICKS_PER_SECOND
  } catch {
    return undefined
  }
}

export interface ExitInfo {
  code: number | null
  signal: NodeJS.Signals | null
}

/** Keeps the last lines of a stream, for a report on a process that failed. */
function tail (stream: NodeJS.ReadableStream | null, lines: string[]): void {
  if (stream === null) {
    return
  }
  createInterface({ input: stream }).on('line', (line) => {
    lines.push(line)
    if (lines.length > STDERR_TAIL_LINES) {
      lines.shift()
    }
  })
}

function delay (ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

export interface ProcessStats {
  /** Resident set size now, bytes. */
  rss: number
  /** Peak resident set size since start (VmHWM), bytes. */
  peakRss: number
}

/** A relay process: started, measured from /proc, stopped. */
export class RelayProcess {
  readonly child: ChildProcess
  readonly stderr: string[] = []
  exit: ExitInfo | undefined
  /** Set when the bench killed the relay for using too much memory. */
  killedForMemory = false
  private readonly exited: Promise<ExitInfo>

  private constructor (child: ChildProcess) {
    this.child = child
    tail(child.stderr, this.stderr)
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal }
        resolve(this.exit)
      })
    })
  }

  /** Starts `node ...args` and waits for the first multiaddr on its stdout. */
  static async start (args: string[]): Promise<{ relay: RelayProcess, multiaddr: string }> {
    const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    remember(child)
    const relay = new RelayProcess(child)
    const lines = createInterface({ input: child.stdout })
    const first = new Promise<string>((resolve) => { lines.once('line', resolve) })
    let timer: ReturnType<typeof setTimeout> | undefined
    const failed = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { reject(new Error(`no address within ${RELAY_START_TIMEOUT_MS} ms`)) }, RELAY_START_TIMEOUT_MS)
      void relay.exited.then((exit) => { reject(new Error(`relay exited (${exit.code ?? exit.signal ?? '?'}) before printing its address: ${relay.stderr.join(' | ')}`)) })
    })
    try {
      const multiaddr = await Promise.race([first, failed])
      // drain the rest of stdout so the relay never blocks on a full pipe
      lines.on('line', () => {})
      return { relay, multiaddr }
    } catch (err: unknown) {
      await relay.stop()
      throw err
    } finally {
      clearTimeout(timer)
    }
  }

  get alive (): boolean {
    return this.exit === undefined
  }

  /** RSS and peak RSS from /proc/PID/status; undefined once the process is gone. */
  stats (): ProcessStats | undefined {
    if (!this.alive || this.child.pid === undefined) {
      return undefined
    }
    try {
      const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8')
      const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024
      return { rss: kib('VmRSS'), peakRss: kib('VmHWM') }
    } catch {
      return undefined
    }
  }

  /** CPU time used so far (user + system), seconds, from /proc/PID/stat. */
  cpuSeconds (): number | undefined {
    return this.alive ? cpuSecondsOf(this.child.pid) : undefined
  }

  killForMemory (): void {
    this.killedForMemory = true
    killGroup(this.child, 'SIGKILL')
  }

  /** SIGTERM, then SIGKILL to the whole group after STOP_TIMEOUT_MS. True if it exited by itself in time. */
  async stop (): Promise<boolean> {
    if (!this.alive) {
      return false
    }
    killGroup(this.child, 'SIGTERM')
    const clean = await Promise.race([this.exited.then(() => true), delay(STOP_TIMEOUT_MS).then(() => false)])
    killGroup(this.child, 'SIGKILL')
    await this.exited
    return clean
  }
}

/** What every worker message has: its kind. A worker that cannot do a command at all answers `fatal`. */
interface Envelope { kind: string }
interface Fatal { kind: 'fatal', message: string }

/**
 * A client worker process, driven by one command and one answer at a time. `To` and
 * `From` are its messages (messages.ts for bench:relay, rooms/messages.ts for
 * bench:rooms); every worker understands `{ kind: 'stop' }`.
 */
export class Worker<To extends Envelope = ToWorker, From extends Envelope = FromWorker> {
  readonly child: ChildProcess
  readonly stderr: string[] = []
  exit: ExitInfo | undefined
  private readonly exited: Promise<ExitInfo>

  constructor (script: string) {
    this.child = fork(script, [], { detached: true, execArgv: [], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
    remember(this.child)
    if (this.child.pid !== undefined) {
      try {
        setPriority(this.child.pid, WORKER_NICENESS)
      } catch {
        // not allowed here: the clients compete with the relay on equal terms
      }
    }
    tail(this.child.stderr, this.stderr)
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal }
        resolve(this.exit)
      })
    })
    // a worker that dies mid-send must not take the runner with it
    this.child.on('error', () => {})
  }

  /** Sends `command` and waits for the answer of kind `kind`; rejects on a fatal answer, exit or timeout. */
  async ask<K extends Exclude<From['kind'], 'fatal'>> (command: To, kind: K, timeoutMs: number): Promise<Extract<From, { kind: K }>> {
    if (this.exit !== undefined) {
      throw new Error(`worker already exited (${this.exitText()})`)
    }
    let onMessage: ((message: From | Fatal) => void) | undefined
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      return await new Promise<Extract<From, { kind: K }>>((resolve, reject) => {
        onMessage = (message) => {
          if (message.kind === kind) {
            resolve(message as Extract<From, { kind: K }>)
          } else if (message.kind === 'fatal') {
            reject(new Error(`worker failed: ${(message as Fatal).message}`))
          }
        }
        this.child.on('message', onMessage)
        timer = setTimeout(() => { reject(new Error(`worker gave no ${kind} answer within ${timeoutMs} ms`)) }, timeoutMs)
        void this.exited.then(() => { reject(new Error(`worker exited (${this.exitText()}): ${this.stderr.join(' | ')}`)) })
        this.child.send(command, (err) => {
          if (err !== null) {
            reject(err)
          }
        })
      })
    } finally {
      clearTimeout(timer)
      if (onMessage !== undefined) {
        this.child.off('message', onMessage)
      }
    }
  }

  private exitText (): string {
    return String(this.exit?.code ?? this.exit?.signal ?? 'running')
  }

  /** Asks the worker to exit, then kills its group whatever it did. */
  async stop (): Promise<void> {
    if (this.exit === undefined) {
      try {
        this.child.send({ kind: 'stop' } satisfies Envelope)
      } catch {
        // the channel is already closed
      }
      await Promise.race([this.exited, delay(STOP_TIMEOUT_MS)])
    }
    killGroup(this.child, 'SIGKILL')
  }
}
