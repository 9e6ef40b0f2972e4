/**
 * What runs on the NAT lab's relay host: the real relay CLI (WSS on TCP 443, with a
 * certificate from the lab's test CA, and WebRTC-Direct on UDP 4443), coturn as a
 * STUN server on UDP 3478 (of both its addresses, so a probe can see whether a NAT
 * maps two destinations to the same port), and the harness page on TCP 80. Ports 443
 * and 80 because the enterprise firewall lets only those out.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Browser } from '@playwright/test'
import { exec } from '../lab/exec.js'
import type { LabProcess } from '../lab/exec.js'
import { HARNESS_DIR, PROCESS_READY_TIMEOUT_MS, WEBRTC_DIRECT_PORT, launchChromium, serveSite, spawnRelay } from '../lab/services.js'
import type { RelayHandle, TlsFiles } from '../lab/services.js'
import type { NatLab, Side } from './topology.js'

export type { RelayHandle }

export const E2E_DIR = join(HARNESS_DIR, '..')
export const UDP_PROBE = join(E2E_DIR, 'natlab', 'udp-probe.mjs')

export const RELAY_PORT = 443
export const SITE_PORT = 80
export const STUN_PORT = 3478

export async function startRelay (lab: NatLab, tls: TlsFiles): Promise<RelayHandle> {
  return spawnRelay(lab, lab.relayNs, lab.relayIp, RELAY_PORT, join(lab.dir, 'relay.key'), 'relay',
    ['--tls-cert', tls.cert, '--tls-key', tls.key, '--webrtc-direct', String(WEBRTC_DIRECT_PORT)])
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
  return serveSite(lab, lab.relayNs, lab.relayIp, SITE_PORT)
}

/** A headless Chromium on `side`'s LAN host, behind its router, with HOME `home` (trusting the lab's CA). */
export async function launchBrowserBehind (lab: NatLab, side: Side, home: string): Promise<Browser> {
  return launchChromium(lab, lab.lanNs(side), home)
}

/** Whether `command` is on PATH (for the global setup's checks). */
export async function haveCommand (command: string): Promise<boolean> {
  const found = await exec('sh', ['-c', `command -v ${command}`], { allowFailure: true })
  return found.trim() !== ''
}
