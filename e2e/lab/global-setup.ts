/**
 * Checks what the lab needs before any test runs, and removes lab namespaces left
 * behind by runs whose runner process no longer exists (a crash skips teardown).
 */
import { access, constants } from 'node:fs/promises'
import { exec } from './exec.js'
import { NAMESPACE_PATTERN, deleteNamespace, labNamespaces } from './netns.js'

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

export default async function globalSetup (): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new Error('the e2e lab creates network namespaces: run as root')
  }
  await exec('ip', ['-V'])
  await exec('nft', ['--version'])
  await access(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', constants.X_OK)
  for (const ns of await labNamespaces()) {
    const runPid = Number(NAMESPACE_PATTERN.exec(ns)?.[1])
    if (!alive(runPid)) {
      await deleteNamespace(ns)
    }
  }
}
