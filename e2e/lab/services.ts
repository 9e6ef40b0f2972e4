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
export const HTTPS_SITE_PORT = 8443
/** A relay serving TLS listens where a production one does: WSS on TCP 443 ... */
export const TLS_RELAY_PORT = 443
/**
 * ... and WebRTC-Direct on a UDP port of 1024 or above: Chromium sends no WebRTC
 * traffic to a lower remote port (a page never reached a relay on UDP 443; see the
 * relay's BROWSER_MIN_WEBRTC_PORT).
 */
export const WEBRTC_DIRECT_PORT = 4443

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
  /**
   * The relay's WebSocket address as it printed it: `/ip4/<ip>/tcp/<port>/ws/p2p/<id>`,
   * or `.../tls/ws/p2p/<id>` when it serves TLS.
   */
  readonly multiaddr: string
  /** Every address it printed (WebRTC-Direct too, when it listens for it). */
  readonly multiaddrs: string[]
  readonly process: LabProcess
}

/** A certificate and its key, as files. */
export interface TlsFiles {
  cert: string
  key: string
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

/**
 * Start the relay CLI in `ns`, listening on `ip:port` with `extraArgs` (e.g. TLS or
 * WebRTC-Direct flags), and wait for its WebSocket multiaddr. It prints all of its
 * addresses at once, so every one is in by then.
 */
export async function spawnRelay (host: Host, ns: string, ip: string, port: number, keyFile: string, name = 'relay', extraArgs: string[] = []): Promise<RelayHandle> {
  await requireFile(RELAY_CLI, 'build it with `pnpm -r --filter "./packages/*" run build`')
  const child = host.spawnIn(ns, name, process.execPath, [RELAY_CLI, '--host', ip, '--port', String(port), '--key', keyFile, ...extraArgs])
  const line = await child.waitForLine(/^\/ip4\/\S+\/tcp\/\d+\/(tls\/)?ws\/p2p\/\S+$/, PROCESS_READY_TIMEOUT_MS)
  const multiaddrs = child.lines().map((l) => l.trim()).filter((l) => l.startsWith('/'))
  return { multiaddr: line.trim(), multiaddrs, process: child }
}

/** Serve `root` from `ns` on `ip:port`, over HTTPS with `tls`; resolves to the base URL browsers load. */
export async function serveSite (host: Host, ns: string, ip: string, port: number, root: string = HARNESS_DIR, tls?: TlsFiles): Promise<string> {
  await requireFile(join(root, 'index.html'), 'build the harness with `pnpm --filter @lifeline/e2e build`')
  const child = host.spawnIn(ns, 'site', process.execPath, [STATIC_SERVER, root, ip, String(port), ...(tls === undefined ? [] : [tls.cert, tls.key])])
  await child.waitForLine(/^listening /, PROCESS_READY_TIMEOUT_MS)
  return `${tls === undefined ? 'http' : 'https'}://${ip}:${port}/`
}

/**
 * Launch a headless Chromium whose network is namespace `ns`; with `home`, that is its
 * HOME (a profile whose NSS database trusts a test CA, see test-ca.ts).
 */
export async function launchChromium (host: Host, ns: string, home?: string): Promise<Browser> {
  return chromium.launch({
    executablePath: await host.chromiumIn(ns),
    args: CHROMIUM_FLAGS,
    headless: true,
    ...(home === undefined ? {} : { env: { ...process.env, HOME: home } })
  })
}

export interface RelayOptions {
  /** TCP port in namespace A; RELAY_PORT when absent. */
  port?: number
  /** Key file, created on first start; `relay.key` in the lab directory when absent. */
  keyFile?: string
  /** Label of the process in failure reports; 'relay' when absent. */
  name?: string
  /** More flags for the relay CLI. */
  args?: string[]
}

/** Start the relay CLI inside namespace A and wait for its ws multiaddr. */
export async function startRelay (lab: Lab, options: RelayOptions = {}): Promise<RelayHandle> {
  return spawnRelay(lab, lab.nsA, lab.ipA, options.port ?? RELAY_PORT, options.keyFile ?? join(lab.dir, 'relay.key'), options.name, options.args)
}

export const REDIS_PORT = 6379

/**
 * Debian's redis-server in namespace A, for relays that share rooms (`--redis`): no
 * persistence, on the veth address. Resolves to its URL once it accepts connections.
 */
export async function startRedis (lab: Lab): Promise<string> {
  const child = lab.spawnIn(lab.nsA, 'redis', 'redis-server', [
    '--port', String(REDIS_PORT), '--bind', lab.ipA, '--save', '', '--appendonly', 'no', '--protected-mode', 'no'
  ])
  await child.waitForLine(/Ready to accept connections/, PROCESS_READY_TIMEOUT_MS)
  return `redis://${lab.ipA}:${REDIS_PORT}`
}

/** Serve `root` from namespace A (over HTTPS with `tls`); resolves to the base URL both browsers load. */
export async function startSite (lab: Lab, root: string = HARNESS_DIR, tls?: TlsFiles): Promise<string> {
  return serveSite(lab, lab.nsA, lab.ipA, tls === undefined ? SITE_PORT : HTTPS_SITE_PORT, root, tls)
}

/** Launch a headless Chromium whose network is namespace `ns` (HOME `home`, when given). */
export async function launchBrowserIn (lab: Lab, ns: string, home?: string): Promise<Browser> {
  return launchChromium(lab, ns, home)
}
