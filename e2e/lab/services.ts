/**
 * What runs in a lab: the real relay, the static server for the harness page, and
 * one Chromium per namespace.
 */
import { existsSync } from 'node:fs'
import { access } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from '@playwright/test'
import type { Browser } from '@playwright/test'
import type { LabProcess } from './exec.js'
import type { NamespaceGroup } from './namespace-group.js'
import type { Lab } from './netns.js'

/**
 * The e2e package: the nearest directory above this file with a package.json. Found
 * rather than fixed, so the lab works both from source (e2e/lab) and compiled by the
 * bench (e2e/dist-bench/lab).
 */
function packageDir (): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) {
      throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`)
    }
    dir = parent
  }
  return dir
}

export const E2E_DIR = packageDir()
const REPO_DIR = resolve(E2E_DIR, '..')
export const HARNESS_DIR = join(E2E_DIR, 'dist-harness')
const RELAY_CLI = join(REPO_DIR, 'packages', 'relay', 'dist', 'cli.js')
const STATIC_SERVER = join(E2E_DIR, 'lab', 'static-server.mjs')

export const RELAY_PORT = 4001
export const SITE_PORT = 8080

/** Startup of a Node process inside a namespace, including a cold module cache. */
export const PROCESS_READY_TIMEOUT_MS = 20_000

/**
 * Always passed to Chromium. mDNS hiding is off so host candidates carry the veth
 * address; the rest keeps Chromium from reaching for anything outside the lab.
 */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-features=WebRtcHideLocalIpsWithMdns'
]

export interface RelayHandle {
  /** The relay's `/ip4/<ip>/tcp/<port>/ws/p2p/<id>` address as it printed it. */
  readonly multiaddr: string
  readonly process: LabProcess
}

export async function requireFile (path: string, hint: string): Promise<void> {
  try {
    await access(path)
  } catch {
    throw new Error(`${path} is missing: ${hint}`)
  }
}

/** The part of a lab the services need: a way to run processes and Chromium in a namespace. */
type Host = Pick<NamespaceGroup, 'spawnIn' | 'chromiumIn'>

/** Start the relay CLI in `ns`, listening on `ip:port`, and wait for its ws multiaddr. */
export async function spawnRelay (host: Host, ns: string, ip: string, port: number, keyFile: string, name = 'relay'): Promise<RelayHandle> {
  await requireFile(RELAY_CLI, 'build it with `pnpm -r --filter "./packages/*" run build`')
  const child = host.spawnIn(ns, name, process.execPath, [RELAY_CLI, '--host', ip, '--port', String(port), '--key', keyFile])
  const line = await child.waitForLine(/^\/ip4\/\S+\/tcp\/\d+\/ws\/p2p\/\S+$/, PROCESS_READY_TIMEOUT_MS)
  return { multiaddr: line.trim(), process: child }
}

/** Serve `root` from `ns` on `ip:port`; resolves to the base URL browsers load. */
export async function serveSite (host: Host, ns: string, ip: string, port: number, root: string = HARNESS_DIR): Promise<string> {
  await requireFile(join(root, 'index.html'), 'build the harness with `pnpm --filter @lifeline/e2e build`')
  const child = host.spawnIn(ns, 'site', process.execPath, [STATIC_SERVER, root, ip, String(port)])
  await child.waitForLine(/^listening /, PROCESS_READY_TIMEOUT_MS)
  return `http://${ip}:${port}/`
}

/** Launch a headless Chromium whose network is namespace `ns`. */
export async function launchChromium (host: Host, ns: string): Promise<Browser> {
  return chromium.launch({
    executablePath: await host.chromiumIn(ns),
    args: CHROMIUM_FLAGS,
    headless: true
  })
}

export interface RelayOptions {
  /** TCP port in namespace A; RELAY_PORT when absent. */
  port?: number
  /** Key file, created on first start; `relay.key` in the lab directory when absent. */
  keyFile?: string
  /** Label of the process in failure reports; 'relay' when absent. */
  name?: string
}

/** Start the relay CLI inside namespace A and wait for its ws multiaddr. */
export async function startRelay (lab: Lab, options: RelayOptions = {}): Promise<RelayHandle> {
  return spawnRelay(lab, lab.nsA, lab.ipA, options.port ?? RELAY_PORT, options.keyFile ?? join(lab.dir, 'relay.key'), options.name)
}

/** Serve `root` from namespace A; resolves to the base URL both browsers load. */
export async function startSite (lab: Lab, root: string = HARNESS_DIR): Promise<string> {
  return serveSite(lab, lab.nsA, lab.ipA, SITE_PORT, root)
}

/** Launch a headless Chromium whose network is namespace `ns`. */
export async function launchBrowserIn (lab: Lab, ns: string): Promise<Browser> {
  return launchChromium(lab, ns)
}
