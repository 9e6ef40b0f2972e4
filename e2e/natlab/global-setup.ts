/**
 * Checks what the NAT lab needs before any test runs, and removes NAT lab namespaces
 * left behind by runs whose runner process no longer exists (a crash skips teardown).
 */
import { access, constants } from 'node:fs/promises'
import { exec } from '../lab/exec.js'
import { haveCommand } from './services.js'
import { NAMESPACE_PATTERN, deleteNamespace, natLabNamespaces } from './topology.js'

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
    throw new Error('the NAT lab creates network namespaces: run as root')
  }
  await exec('ip', ['-V'])
  await exec('nft', ['--version'])
  for (const [command, pkg] of [['conntrack', 'conntrack'], ['turnserver', 'coturn']] as const) {
    if (!await haveCommand(command)) {
      throw new Error(`${command} is missing: apt-get install -y ${pkg} (scripts/setup.sh --browsers does)`)
    }
  }
  await access(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', constants.X_OK)
  for (const ns of await natLabNamespaces()) {
    const runPid = Number(NAMESPACE_PATTERN.exec(ns)?.[1])
    if (!alive(runPid)) {
      await deleteNamespace(ns)
    }
  }
}
