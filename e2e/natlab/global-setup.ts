/**
 * Checks what the NAT lab needs before any test runs, and removes NAT lab namespaces
 * left behind by runs whose runner process no longer exists (a crash skips teardown).
 */
import { access, constants } from 'node:fs/promises'
import { exec } from '../lab/exec.js'
import { haveCommand } from './services.js'
import { removeStaleNamespaces } from '../lab/netns.js'
import { NAMESPACE_PATTERN } from './topology.js'

export default async function globalSetup (): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new Error('the NAT lab creates network namespaces: run as root')
  }
  await exec('ip', ['-V'])
  await exec('nft', ['--version'])
  for (const [command, pkg] of [['conntrack', 'conntrack'], ['turnserver', 'coturn'], ['openssl', 'openssl'], ['certutil', 'libnss3-tools']] as const) {
    if (!await haveCommand(command)) {
      throw new Error(`${command} is missing: apt-get install -y ${pkg} (scripts/setup.sh --browsers does)`)
    }
  }
  await access(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', constants.X_OK)
  await removeStaleNamespaces(NAMESPACE_PATTERN)
}
