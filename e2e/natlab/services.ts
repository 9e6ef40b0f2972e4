/**
 * What runs on the NAT lab's relay host: the real relay CLI on TCP 443, coturn as a
 * STUN server on UDP 3478 (of both its addresses, so a probe can see whether a NAT
 * maps two destinations to the same port), and the harness page on TCP 80. Ports 443
 * and 80 because the enterprise firewall lets only those out.
 */
import { access, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { chromium } from '@playwright/test'
import type { Browser } from '@playwright/test'
import type { LabProcess } from '../lab/exec.js'
import { CHROMIUM_FLAGS, HARNESS_DIR } from '../lab/services.js'
import { exec } from '../lab/exec.js'
import type { NatLab, Side } from './topology.js'

export const E2E_DIR = join(HARNESS_DIR, '..')
const RELAY_CLI = join(E2E_DIR, '..', 'packages', 'relay', 'dist', 'cli.js')
const STATIC_SERVER = join(E2E_DIR, 'lab', 'static-server.mjs')
export const UDP_PROBE = join(E2E_DIR, 'natlab', 'udp-probe.mjs')

export const RELAY_PORT = 443
export const SITE_PORT = 80
export const STUN_PORT = 3478

/** Startup of a Node process inside a namespace, including a cold module cache. */
const PROCESS_READY_TIMEOUT_MS = 20_000

export interface RelayHandle {
  /** `/ip4/198.51.100.10/tcp/443/ws/p2p/<id>` as the relay printed it. */
  readonly multiaddr: string
  readonly process: LabProcess
}

async function requireFile (path: string, hint: string): Promise<void> {
  try {
    await access(path)
  } catch {
    throw new Error(`${path} is missing: ${hint}`)
  }
}

export async function startRelay (lab: NatLab): Promise<RelayHandle> {
  await requireFile(RELAY_CLI, 'build it with `pnpm -r --filter "./packages/*" run build`')
  const child = lab.spawnIn(lab.relayNs, 'relay', process.execPath, [
    RELAY_CLI, '--host', lab.relayIp, '--port', String(RELAY_PORT), '--key', join(lab.dir, 'relay.key')
  ])
  const line = await child.waitForLine(/^\/ip4\/\S+\/tcp\/\d+\/ws\/p2p\/\S+$/, PROCESS_READY_TIMEOUT_MS)
  return { multiaddr: line.trim(), process: child }
}

/**
 * coturn as a plain STUN server. One setting per line and no trailing comments: an
 * inline `# comment` after a value silently disables that setting in turnserver.conf.
 */
function turnserverConfig (lab: NatLab): string {
  return [
    `listening-ip=${lab.relayIp}`,
    `listening-ip=${lab.relayAltIp}`,
    `listening-port=${STUN_PORT}`,
    'stun-only',
    'no-tls',
    'no-dtls',
    'no-cli',
    'no-software-attribute',
    'fingerprint',
    'log-file=stdout',
    'simple-log',
    `pidfile=${join(lab.dir, 'turnserver.pid')}`,
    ''
  ].join('\n')
}

/** Start coturn on the relay host; resolves once it answers a STUN request. */
export async function startStun (lab: NatLab): Promise<LabProcess> {
  const config = join(lab.dir, 'turnserver.conf')
  await writeFile(config, turnserverConfig(lab))
  const child = lab.spawnIn(lab.relayNs, 'turnserver', 'turnserver', ['-c', config])
  const deadline = Date.now() + PROCESS_READY_TIMEOUT_MS
  for (;;) {
    const answer = await lab.execIn(lab.relayNs, process.execPath, [UDP_PROBE, 'stun', '0', `${lab.relayIp}:${STUN_PORT}`])
    if (!answer.includes('"mapped":null')) {
      return child
    }
    if (!child.running || Date.now() > deadline) {
      throw new Error(`turnserver does not answer STUN on ${lab.relayIp}:${STUN_PORT}\n${child.output()}`)
    }
  }
}

/** Serve the harness from the relay host; resolves to the base URL the browsers load. */
export async function startSite (lab: NatLab): Promise<string> {
  await requireFile(join(HARNESS_DIR, 'index.html'), 'build the harness with `pnpm --filter @lifeline/e2e build`')
  const child = lab.spawnIn(lab.relayNs, 'site', process.execPath, [STATIC_SERVER, HARNESS_DIR, lab.relayIp, String(SITE_PORT)])
  await child.waitForLine(/^listening /, PROCESS_READY_TIMEOUT_MS)
  return `http://${lab.relayIp}:${SITE_PORT}/`
}

/** A headless Chromium on `side`'s LAN host, behind its router. */
export async function launchBrowserBehind (lab: NatLab, side: Side): Promise<Browser> {
  return chromium.launch({
    executablePath: await lab.chromiumIn(lab.lanNs(side)),
    args: CHROMIUM_FLAGS,
    headless: true
  })
}

/** Whether `command` is on PATH (for the global setup's checks). */
export async function haveCommand (command: string): Promise<boolean> {
  const found = await exec('sh', ['-c', `command -v ${command}`], { allowFailure: true })
  return found.trim() !== ''
}
