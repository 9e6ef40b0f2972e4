/**
 * The files in deploy/ are what an operator installs: the systemd unit must load
 * without a complaint, and the example config must be one the relay accepts.
 */
import { execFile } from 'node:child_process'
import { access, copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseCommandLine } from '../src/config.js'

const DEPLOY = fileURLToPath(new URL('../deploy/', import.meta.url))
const UNIT = join(DEPLOY, 'lifeline-relay.service')
const SYSTEMD_ANALYZE = '/usr/bin/systemd-analyze'
const hasSystemdAnalyze = await access(SYSTEMD_ANALYZE).then(() => true, () => false)

/** What `systemd-analyze verify` says about a unit file, one complaint per line. */
async function verify (unitFile: string): Promise<string[]> {
  const result = await promisify(execFile)(SYSTEMD_ANALYZE, ['verify', '--man=no', unitFile]).then(
    ({ stdout, stderr }) => stdout + stderr,
    // it exits non-zero when it complains; what it said is on the error
    (err: unknown) => {
      const { stdout, stderr } = err as { stdout?: string, stderr?: string }
      return `${stdout ?? ''}${stderr ?? ''}`
    }
  )
  // the unit names where the package's binary lands with `npm install -g`; on a
  // machine where it is not installed that is the one complaint expected
  const binary = /^lifeline-relay\.service: Command \/usr\/local\/bin\/lifeline-relay is not executable: No such file or directory$/
  return result.split('\n').filter(line => line.trim() !== '' && !binary.test(line))
}

let dir: string

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lifeline-relay-deploy-'))
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('deploy/lifeline-relay.service', () => {
  it.skipIf(!hasSystemdAnalyze)(`passes systemd-analyze verify (skipped: ${SYSTEMD_ANALYZE} is absent, install systemd)`, async () => {
    expect(await verify(UNIT)).toEqual([])
  })

  it.skipIf(!hasSystemdAnalyze)('would be caught by systemd-analyze verify if it had a misspelt key', async () => {
    const broken = join(dir, 'lifeline-relay.service')
    await writeFile(broken, (await readFile(UNIT, 'utf8')).replace('NoNewPrivileges=yes', 'NoNewPrivilege=yes'))
    expect((await verify(broken)).join('\n')).toMatch(/Unknown key.*NoNewPrivilege/)
  })

  it('is hardened as the README says', async () => {
    const unit = await readFile(UNIT, 'utf8')
    for (const line of [
      'DynamicUser=yes', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'StateDirectory=lifeline-relay',
      'AmbientCapabilities=CAP_NET_BIND_SERVICE', 'CapabilityBoundingSet=CAP_NET_BIND_SERVICE', 'Restart=on-failure',
      'ExecStart=/usr/local/bin/lifeline-relay --config /etc/lifeline-relay/relay.json --key /var/lib/lifeline-relay/relay.key',
      // SIGHUP reloads the TLS certificate
      'ExecReload=/bin/kill -HUP $MAINPID'
    ]) {
      expect(unit.split('\n')).toContain(line)
    }
  })
})

describe('deploy/relay.json', () => {
  it('is a config file the relay accepts', async () => {
    const file = join(dir, 'relay.json')
    await copyFile(join(DEPLOY, 'relay.json'), file)
    const command = parseCommandLine(['--config', file])
    expect(command.command === 'run' && command.config).toMatchObject({
      host: '0.0.0.0',
      port: 443,
      tlsCert: '/var/lib/lifeline-relay/tls/fullchain.pem',
      tlsKey: '/var/lib/lifeline-relay/tls/privkey.pem',
      announce: ['/dns4/relay.example.com/tcp/443/tls/ws'],
      metrics: { host: '127.0.0.1', port: 9464 },
      logFormat: 'json'
    })
  })
})
