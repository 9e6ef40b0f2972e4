/**
 * What every lab made of network namespaces does the same way: run processes inside
 * its namespaces, write a Chromium wrapper per namespace, and tear everything down
 * (processes, namespaces, temporary directory) even when a step fails.
 */
import { chmod, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { LabProcess, exec } from './exec.js'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Kill every process still inside `ns`, then delete it. Missing namespaces are fine. */
export async function deleteNamespace (ns: string): Promise<void> {
  const pids = await exec('ip', ['netns', 'pids', ns], { allowFailure: true })
  for (const pid of pids.split(/\s+/).filter((word) => /^\d+$/.test(word))) {
    try {
      process.kill(Number(pid), 'SIGKILL')
    } catch {
      // Already gone.
    }
  }
  await exec('ip', ['netns', 'del', ns], { allowFailure: true })
}

export abstract class NamespaceGroup {
  /** A temporary directory removed at teardown (key files, wrapper scripts). */
  readonly dir: string
  private readonly processes: LabProcess[] = []
  private tornDown = false

  constructor (dir: string) {
    this.dir = dir
  }

  /** Every namespace of this lab; the only ones its methods act in. */
  protected abstract namespaces (): string[]

  /** Start a long-running process inside a namespace; stopped at teardown. */
  spawnIn (ns: string, name: string, command: string, args: string[]): LabProcess {
    this.assertOwn(ns)
    const child = new LabProcess(name, 'ip', ['netns', 'exec', ns, command, ...args])
    this.processes.push(child)
    return child
  }

  /** Run a command to completion inside a namespace. */
  async execIn (ns: string, command: string, args: string[], input?: string): Promise<string> {
    this.assertOwn(ns)
    return exec('ip', ['netns', 'exec', ns, command, ...args], input === undefined ? {} : { input })
  }

  /** An executable that runs Chromium inside `ns`, for Playwright's `executablePath`. */
  async chromiumIn (ns: string): Promise<string> {
    this.assertOwn(ns)
    const path = join(this.dir, `chromium-${ns}.sh`)
    await writeFile(path, `#!/bin/sh\nexec ip netns exec ${ns} ${CHROMIUM} "$@"\n`)
    await chmod(path, 0o755)
    return path
  }

  /** Stop every process, delete every namespace and the directory. Safe to call twice. */
  async teardown (): Promise<void> {
    if (this.tornDown) {
      return
    }
    this.tornDown = true
    // Every step runs even when an earlier one failed; the first error is reported.
    const results = await Promise.allSettled(this.processes.map(async (child) => { await child.stop() }))
    results.push(...await Promise.allSettled(this.namespaces().map(deleteNamespace)))
    results.push(...await Promise.allSettled([rm(this.dir, { recursive: true, force: true })]))
    const failure = results.find((result) => result.status === 'rejected')
    if (failure !== undefined) {
      throw failure.reason
    }
  }

  protected assertOwn (ns: string): void {
    if (!this.namespaces().includes(ns)) {
      throw new Error(`${ns} is not a namespace of this lab (${this.namespaces().join(', ')})`)
    }
  }
}

/** Build `lab` (its `create()`); on failure everything made so far is removed again. */
export async function buildLab<T extends NamespaceGroup & { create(): Promise<void> }> (lab: T): Promise<T> {
  try {
    await lab.create()
  } catch (err) {
    await lab.teardown()
    throw err
  }
  return lab
}
