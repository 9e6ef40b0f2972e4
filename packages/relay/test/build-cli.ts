/**
 * Vitest global setup: compiles the package so the CLI tests run the current
 * `dist/cli.js`, not whatever an earlier build left there.
 */
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

export default function setup (): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  const project = fileURLToPath(new URL('../tsconfig.build.json', import.meta.url))
  execFileSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit' })
}
