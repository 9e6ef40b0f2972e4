/**
 * A small internet made of Linux network namespaces: a public network with a relay
 * host on it, and two NAT routers, each with one LAN host (a browser) behind it.
 *
 *   LAN A 10.1.0.2 ── router A (10.1.0.1 | 198.51.100.11) ──┐
 *                                                           bridge 198.51.100.0/24 ── relay host 198.51.100.10
 *   LAN B 10.2.0.2 ── router B (10.2.0.1 | 198.51.100.12) ──┘        (and 198.51.100.20)
 *
 * Nothing is linked to the root namespace, so no packet can leave the machine; the
 * routers have no default route, so a LAN host reaches the public network and
 * nothing else. IPv6 is off everywhere. Each router's NAT behaviour is an nftables
 * table (nat-rules.ts) that `setNat()` swaps, flushing conntrack. Needs root,
 * iproute2, nftables and conntrack.
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { exec } from '../lab/exec.js'
import { NamespaceGroup, buildLab } from '../lab/namespace-group.js'
import { METER_COUNTER, METER_TABLE, meterRuleset, natRuleset } from './nat-rules.js'
import type { NatMode, RouterAddressing } from './nat-rules.js'
import { WEBRTC_DIRECT_PORT } from '../lab/services.js'
import { RELAY_PORT } from './services.js'

/** Set by playwright.natlab.config.ts in the runner; workers inherit it. */
export const RUN_ID = process.env.LL_RUN_ID ?? String(process.pid)

const ROLES = ['pub', 'relay', 'ra', 'rb', 'la', 'lb'] as const
type Role = typeof ROLES[number]

/** Every NAT lab namespace is named `nl-<run>-<worker pid>-<n>-<role>`. */
export const NAMESPACE_PATTERN = /^nl-(\d+)-(\d+)-(\d+)-(pub|relay|ra|rb|la|lb)$/


/** TEST-NET-2 (RFC 5737): documentation addresses, routed nowhere. */
export const PUBLIC_PREFIX_LENGTH = 24
export const RELAY_IP = '198.51.100.10'
/** A second address of the relay host, where STUN also answers: a second destination. */
export const RELAY_ALT_IP = '198.51.100.20'

export type Side = 'A' | 'B'

interface SideAddressing extends RouterAddressing {
  routerPublicIp: string
  routerLanIp: string
  hostIp: string
}

const SIDES: Record<Side, SideAddressing> = {
  A: { wan: 'wan', lan: 'lan', lanSubnet: '10.1.0.0/24', routerPublicIp: '198.51.100.11', routerLanIp: '10.1.0.1', hostIp: '10.1.0.2' },
  B: { wan: 'wan', lan: 'lan', lanSubnet: '10.2.0.0/24', routerPublicIp: '198.51.100.12', routerLanIp: '10.2.0.1', hostIp: '10.2.0.2' }
}

let labCount = 0

export class NatLab extends NamespaceGroup {
  readonly relayIp = RELAY_IP
  readonly relayAltIp = RELAY_ALT_IP
  private readonly base: string
  private readonly modes: Partial<Record<Side, NatMode>> = {}

  /** `dir` is removed at teardown (key file, coturn config, wrappers). */
  constructor (id: number, dir: string) {
    super(dir)
    this.base = `nl-${RUN_ID}-${process.pid}-${id}`
  }

  protected namespaces (): string[] {
    return ROLES.map((role) => this.ns(role))
  }

  ns (role: Role): string {
    return `${this.base}-${role}`
  }

  get relayNs (): string {
    return this.ns('relay')
  }

  routerNs (side: Side): string {
    return this.ns(side === 'A' ? 'ra' : 'rb')
  }

  lanNs (side: Side): string {
    return this.ns(side === 'A' ? 'la' : 'lb')
  }

  /** The router's address on the public network: what the other side sees. */
  publicIp (side: Side): string {
    return SIDES[side].routerPublicIp
  }

  /** The browser host's LAN address. */
  hostIp (side: Side): string {
    return SIDES[side].hostIp
  }

  natMode (side: Side): NatMode | undefined {
    return this.modes[side]
  }

  async create (): Promise<void> {
    for (const role of ROLES) {
      const ns = this.ns(role)
      await exec('ip', ['netns', 'add', ns])
      // Before any interface exists, so none ever gets an IPv6 address.
      await this.execIn(ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'])
      await exec('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])
    }
    const pub = this.ns('pub')
    // The public network is a bridge in a namespace of its own, with no address.
    await exec('ip', ['-n', pub, 'link', 'add', 'br0', 'type', 'bridge'])
    await exec('ip', ['-n', pub, 'link', 'set', 'br0', 'up'])
    await this.plugIntoBridge('p-relay', this.relayNs, 'eth0', RELAY_IP)
    await exec('ip', ['-n', this.relayNs, 'addr', 'add', `${RELAY_ALT_IP}/${PUBLIC_PREFIX_LENGTH}`, 'dev', 'eth0'])
    for (const side of ['A', 'B'] as const) {
      const a = SIDES[side]
      const router = this.routerNs(side)
      const lanHost = this.lanNs(side)
      await this.plugIntoBridge(side === 'A' ? 'p-ra' : 'p-rb', router, a.wan, a.routerPublicIp)
      // Created inside the router with its peer end placed straight into the LAN host.
      await exec('ip', ['-n', router, 'link', 'add', a.lan, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', lanHost])
      await exec('ip', ['-n', router, 'addr', 'add', `${a.routerLanIp}/24`, 'dev', a.lan])
      await exec('ip', ['-n', router, 'link', 'set', a.lan, 'up'])
      await this.execIn(router, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1'])
      await exec('ip', ['-n', lanHost, 'addr', 'add', `${a.hostIp}/24`, 'dev', 'eth0'])
      await exec('ip', ['-n', lanHost, 'link', 'set', 'eth0', 'up'])
      // Chromium gathers no ICE candidates without a default route.
      await exec('ip', ['-n', lanHost, 'route', 'add', 'default', 'via', a.routerLanIp])
    }
    await this.execIn(this.relayNs, 'nft', ['-f', '-'], meterRuleset(RELAY_PORT, WEBRTC_DIRECT_PORT))
  }

  /**
   * Give `side`'s router the NAT behaviour `mode`, then forget every tracked flow on
   * it, so no mapping or filter decision from the previous mode survives.
   */
  async setNat (side: Side, mode: NatMode): Promise<void> {
    const router = this.routerNs(side)
    await this.execIn(router, 'nft', ['-f', '-'], natRuleset(mode, SIDES[side]))
    await this.flushConntrack(side)
    this.modes[side] = mode
  }

  async flushConntrack (side: Side): Promise<void> {
    await this.execIn(this.routerNs(side), 'conntrack', ['-F'])
  }

  /** Live conntrack entries on a router, for failure reports. */
  async conntrackTable (side: Side): Promise<string> {
    return this.execIn(this.routerNs(side), 'conntrack', ['-L'])
  }

  /** Bytes counted on the relay's ports (TCP 443, UDP 4443), both directions, since the last reset. */
  async relayBytes (): Promise<number> {
    const out = await this.execIn(this.relayNs, 'nft', ['-j', 'list', 'counter', 'inet', METER_TABLE, METER_COUNTER])
    const parsed = JSON.parse(out) as { nftables: { counter?: { bytes: number } }[] }
    const counter = parsed.nftables.find((entry) => entry.counter !== undefined)?.counter
    if (counter === undefined) {
      throw new Error(`no counter ${METER_COUNTER} in ${out}`)
    }
    return counter.bytes
  }

  async resetRelayBytes (): Promise<void> {
    await this.execIn(this.relayNs, 'nft', ['reset', 'counter', 'inet', METER_TABLE, METER_COUNTER])
  }

  /** A veth from the bridge into `ns`, with `ip` on the far end. */
  private async plugIntoBridge (bridgePort: string, ns: string, dev: string, ip: string): Promise<void> {
    const pub = this.ns('pub')
    await exec('ip', ['-n', pub, 'link', 'add', bridgePort, 'type', 'veth', 'peer', 'name', dev, 'netns', ns])
    await exec('ip', ['-n', pub, 'link', 'set', bridgePort, 'master', 'br0'])
    await exec('ip', ['-n', pub, 'link', 'set', bridgePort, 'up'])
    await exec('ip', ['-n', ns, 'addr', 'add', `${ip}/${PUBLIC_PREFIX_LENGTH}`, 'dev', dev])
    await exec('ip', ['-n', ns, 'link', 'set', dev, 'up'])
  }
}

/** Create a fresh NAT lab. */
export async function createNatLab (): Promise<NatLab> {
  labCount += 1
  const dir = await mkdtemp(join(tmpdir(), 'lifeline-natlab-'))
  return buildLab(new NatLab(labCount, dir))
}
