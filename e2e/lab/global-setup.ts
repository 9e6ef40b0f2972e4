/**
 * Checks what the lab needs before any test runs, and removes lab namespaces left
 * behind by runs whose runner process no longer exists (a crash skips teardown).
 */
import { access, constants } from 'node:fs/promises'
import { exec } from './exec.js'
import { NAMESPACE_PATTERN, removeStaleNamespaces } from './netns.js'

export default async function globalSetup (): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new Error('the e2e lab creates network namespaces: run as root')
  }
  await exec('ip', ['-V'])
  await exec('nft', ['--version'])
  // the https tests make a test CA and have Chromium trust it (lab/test-ca.ts)
  await exec('openssl', ['version'])
  await exec('certutil', ['-H'], { allowFailure: true })
  await access(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', constants.X_OK)
  await removeStaleNamespaces(NAMESPACE_PATTERN)
}
