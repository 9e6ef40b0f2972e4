/**
 * A two-host network lab made of Linux network namespaces.
 *
 * Chromium gathers ICE candidates only on real interfaces: on loopback it gathers none,
 * and the host's own interface must never carry test traffic. Each lab is therefore two
 * fresh namespaces, A and B, joined by one veth pair (A 10.88.N.1/24, B 10.88.N.2/24)
 * with no link to the root namespace. The relay and the page server run in A; one
 * browser runs in each. Needs root, iproute2 and nftables.
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LabProcess, exec } from './exec.js'
import { CHROMIUM, NamespaceGroup, buildLab, deleteNamespace } from './namespace-group.js'

export { CHROMIUM, deleteNamespace }

/**
 * Identifies this test run in namespace names, so cleanup removes only this run's
 * namespaces. playwright.config.ts sets it in the runner; workers inherit it.
 */
export const RUN_ID = process.env.LL_RUN_ID ?? String(process.pid)

/** Every lab namespace is named `ll-<run>-<worker pid>-<n>-<a|b>`. */
export const NAMESPACE_PATTERN = /^ll-(\d+)-(\d+)-(\d+)-[ab]$/


/** 10.88.N.0/24: private (RFC 1918) and unused on this host; N counts labs. */
const SUBNET_PREFIX = '10.88'
const SUBNETS = 250

let labCount = 0

export interface Lab {
  readonly nsA: string
  readonly nsB: string
  readonly ipA: string
  readonly ipB: string
  /** A temporary directory removed at teardown (key files, wrapper scripts). */
  readonly dir: string
  /** Start a long-running process inside a namespace; stopped at teardown. */
  spawnIn(ns: string, name: string, command: string, args: string[]): LabProcess
  /** Run a command to completion inside a namespace. */
  execIn(ns: string, command: string, args: string[], input?: string): Promise<string>
  /** An executable that runs Chromium inside `ns`, for Playwright's `executablePath`. */
  chromiumIn(ns: string): Promise<string>
  /** Drop every UDP packet in and out of `ns` (ICE, so WebRTC, dies; TCP lives). */
  blockUdp(ns: string): Promise<void>
  unblockUdp(ns: string): Promise<void>
  /**
   * Drop every TCP packet to or from `port` in `ns`, both ways: a process listening
   * there stays alive but falls silent, with no FIN or RST to tell anyone.
   */
  dropTcpPort(ns: string, port: number): Promise<void>
  /** Stop every process, delete both namespaces and the directory. Safe to call twice. */
  teardown(): Promise<void>
}

/** Names of the namespaces that exist now and match `pattern`. */
export async function namespacesMatching (pattern: RegExp): Promise<string[]> {
  const listing = await exec('ip', ['netns', 'list'])
  return listing.split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => pattern.test(name))
}

/** Names of lab namespaces that exist now. */
export async function labNamespaces (): Promise<string[]> {
  return namespacesMatching(NAMESPACE_PATTERN)
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/**
 * Delete namespaces left behind by runs whose runner process no longer exists (a crash
 * skips teardown). `pattern`'s first group is the run's process ID.
 */
export async function removeStaleNamespaces (pattern: RegExp): Promise<void> {
  for (const ns of await namespacesMatching(pattern)) {
    if (!alive(Number(pattern.exec(ns)?.[1]))) {
      await deleteNamespace(ns)
    }
  }
}

/** Delete every namespace of this run (its names start with `prefix`) that is still there. */
export async function removeRunNamespaces (pattern: RegExp, prefix: string): Promise<void> {
  for (const ns of await namespacesMatching(pattern)) {
    if (ns.startsWith(prefix)) {
      await deleteNamespace(ns)
    }
  }
}

const UDP_BLOCK_RULES = `table inet lifeline {
  chain input {
    type filter hook input priority filter; policy accept;
    meta l4proto udp drop
  }
  chain output {
    type filter hook output priority filter; policy accept;
    meta l4proto udp drop
  }
}
`

/** Its own table, so it is independent of the UDP block. */
function tcpDropRules (port: number): string {
  return `table inet lifeline_drop_${port} {
  chain input {
    type filter hook input priority filter; policy accept;
    tcp dport ${port} drop
    tcp sport ${port} drop
  }
  chain output {
    type filter hook output priority filter; policy accept;
    tcp dport ${port} drop
    tcp sport ${port} drop
  }
}
`
}

class NetnsLab extends NamespaceGroup implements Lab {
  readonly nsA: string
  readonly nsB: string
  readonly ipA: string
  readonly ipB: string

  constructor (id: number, dir: string) {
    super(dir)
    const base = `ll-${RUN_ID}-${process.pid}-${id}`
    const subnet = `${SUBNET_PREFIX}.${(id % SUBNETS) + 1}`
    this.nsA = `${base}-a`
    this.nsB = `${base}-b`
    this.ipA = `${subnet}.1`
    this.ipB = `${subnet}.2`
  }

  async create (): Promise<void> {
    for (const ns of [this.nsA, this.nsB]) {
      await exec('ip', ['netns', 'add', ns])
      // WebRTC then gathers exactly one candidate per side: the veth's IPv4 address.
      await this.execIn(ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'])
      await exec('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])
    }
    // Created inside A with its peer end placed straight into B: the root namespace never sees it.
    await exec('ip', ['-n', this.nsA, 'link', 'add', 'name', 'veth-a', 'type', 'veth', 'peer', 'name', 'veth-b', 'netns', this.nsB])
    for (const [ns, dev, ip] of [[this.nsA, 'veth-a', this.ipA], [this.nsB, 'veth-b', this.ipB]] as const) {
      await exec('ip', ['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', dev])
      await exec('ip', ['-n', ns, 'link', 'set', dev, 'up'])
      // Chromium gathers no ICE candidates on a host without a default route; this one
      // leads only to the other namespace.
      await exec('ip', ['-n', ns, 'route', 'add', 'default', 'dev', dev])
    }
  }

  async blockUdp (ns: string): Promise<void> {
    await this.unblockUdp(ns)
    await this.execIn(ns, 'nft', ['-f', '-'], UDP_BLOCK_RULES)
  }

  async unblockUdp (ns: string): Promise<void> {
    this.assertOwn(ns)
    const tables = await this.execIn(ns, 'nft', ['list', 'tables'])
    if (tables.includes('table inet lifeline')) {
      await this.execIn(ns, 'nft', ['delete', 'table', 'inet', 'lifeline'])
    }
  }

  async dropTcpPort (ns: string, port: number): Promise<void> {
    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      throw new Error(`not a TCP port: ${port}`)
    }
    await this.execIn(ns, 'nft', ['-f', '-'], tcpDropRules(port))
  }

  protected namespaces (): string[] {
    return [this.nsA, this.nsB]
  }
}

/** Create a fresh lab. */
export async function createLab (): Promise<Lab> {
  labCount += 1
  const dir = await mkdtemp(join(tmpdir(), 'lifeline-lab-'))
  return buildLab(new NetnsLab(labCount, dir))
}
