/**
 * The CLI with --tls-cert and --tls-key: what it prints, and SIGHUP reloading the
 * certificate (or keeping the old one) instead of ending the process.
 */
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { killAll, startCli, type RunningCli } from '../test/cli-process.js'
import { createTestCa, type TestCa } from '../test/tls-ca.js'

let dir: string
let testCa: TestCa
const running: RunningCli[] = []

/** Starts the CLI and collects its stderr as it comes (RunningCli gives it only at exit). */
function start (args: string[]): { cli: RunningCli, stderr: () => string } {
  const cli = startCli(['--host', '127.0.0.1', '--port', '0', '--key', join(dir, 'relay.key'), ...args])
  running.push(cli)
  let stderr = ''
  cli.child.stderr?.on('data', (data: string) => { stderr += data })
  return { cli, stderr: () => stderr }
}

async function replaceFile (target: string, source: string): Promise<void> {
  await writeFile(`${target}.new`, await readFile(source))
  await rename(`${target}.new`, target)
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lifeline-relay-cli-tls-'))
  testCa = createTestCa(dir)
})

afterEach(async () => {
  await killAll(running)
  await rm(dir, { recursive: true, force: true })
})

describe('lifeline-relay CLI with TLS', () => {
  it('prints its /tls/ws address and the certificate, and reloads it on SIGHUP while still running', async () => {
    const first = testCa.issue('first', 1001, 10)
    const second = testCa.issue('second', 2002, 20)
    const certFile = join(dir, 'fullchain.pem')
    const keyFile = join(dir, 'privkey.pem')
    await replaceFile(certFile, first.cert)
    await replaceFile(keyFile, first.key)
    const { cli, stderr } = start(['--tls-cert', certFile, '--tls-key', keyFile])

    const [line] = await cli.firstLines(1)
    expect(line).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/tls\/ws\/p2p\/12D3Koo\w+$/)
    await expect.poll(stderr).toMatch(/serving TLS with CN=localhost, O=Lifeline test first \(DNS:localhost, IP Address:127\.0\.0\.1\), serial 03E9, valid until 20\d\d-/)
    expect(stderr()).not.toMatch(/PRIVATE KEY/)

    // a key of another certificate: refused, the old one stays
    await replaceFile(keyFile, second.key)
    await expect.poll(stderr).toMatch(/TLS certificate NOT reloaded, still serving CN=localhost, O=Lifeline test first .*serial 03E9.*: .*privkey\.pem is not the private key of the certificate/)

    // the watch would load the pair a second later too; what this shows is that SIGHUP
    // reaches the handler instead of ending the process (its default action), and
    // relay-tls.test.ts shows the reload it calls without the watch
    await replaceFile(certFile, second.cert)
    cli.child.kill('SIGHUP')
    await expect.poll(stderr).toMatch(/SIGHUP: reading the TLS certificate and key again/)
    await expect.poll(stderr).toMatch(/TLS certificate reloaded: CN=localhost, O=Lifeline test second .*serial 07D2/)
    expect(cli.child.exitCode).toBeNull()

    cli.child.kill('SIGTERM')
    expect((await cli.exited).code).toBe(0)
  })

  it('keeps running on SIGHUP without TLS', async () => {
    const { cli, stderr } = start([])
    await cli.firstLines(1)
    cli.child.kill('SIGHUP')
    await expect.poll(stderr).toMatch(/SIGHUP: nothing to reload, this relay serves no TLS/)
    cli.child.kill('SIGTERM')
    expect((await cli.exited).code).toBe(0)
  })

  it('exits 2 naming the file when the certificate cannot be read', async () => {
    const { key } = testCa.issue('lonely', 3003, 10)
    const { cli } = start(['--tls-cert', join(dir, 'missing.pem'), '--tls-key', key])
    const exit = await cli.exited
    expect(exit.code).toBe(2)
    expect(exit.stderr).toMatch(/cannot read the TLS certificate .*missing\.pem/)
  })
})
