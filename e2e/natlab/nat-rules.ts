/**
 * nftables rulesets for the NAT lab: one per NAT behaviour of a router, and the byte
 * meter on the relay host. Pure text builders, so the rules can be read (and
 * documented in README.md) without running anything.
 *
 * Terms from RFC 4787: "mapping" is how a router picks the public port for a flow
 * from a LAN host, "filtering" is which inbound packets it lets through to that port.
 * nft 1.0.6 reserves the chain names `fwd` and `in`, so chains are named by hook.
 */

export type NatMode = 'eim' | 'fullcone' | 'symmetric' | 'udpblock'

export const NAT_MODES: readonly NatMode[] = ['eim', 'fullcone', 'symmetric', 'udpblock']

/** Table holding a router's NAT and filter rules; replaced as a whole to switch modes. */
export const NAT_TABLE = 'natlab'

/** Table and named counter on the relay host counting the relay's bytes (WSS and WebRTC-Direct), both directions. */
export const METER_TABLE = 'natlab_meter'
export const METER_COUNTER = 'relay_bytes'

/** What each mode stands for, for the report and the README. */
export const NAT_MODE_DESCRIPTIONS: Record<NatMode, string> = {
  eim: 'masquerade: endpoint-independent mapping, port-restricted filtering (most home routers)',
  fullcone: 'masquerade plus endpoint-independent filtering: any host may send to a mapped port (full cone)',
  symmetric: 'masquerade fully-random: a new random public port per destination (carrier-grade / symmetric NAT)',
  udpblock: 'enterprise firewall: only TCP 80 and 443 out, every UDP packet dropped'
}

export interface RouterAddressing {
  /** Interface facing the public bridge. */
  wan: string
  /** Interface facing the LAN. */
  lan: string
  /** The LAN prefix, e.g. 10.1.0.0/24. */
  lanSubnet: string
}

/**
 * Full ruleset for one router in `mode`. It starts by deleting the previous table in
 * the same transaction (`table` first so the delete never fails), so `nft -f` swaps
 * modes atomically; the caller flushes conntrack afterwards so no flow keeps a
 * mapping or a filter decision made under the old rules.
 */
export function natRuleset (mode: NatMode, r: RouterAddressing): string {
  const masquerade = mode === 'symmetric' ? 'masquerade fully-random' : 'masquerade'
  // Outbound policy: everything for the NATs, only web ports for the firewall.
  const outbound = mode === 'udpblock'
    ? `iifname "${r.lan}" oifname "${r.wan}" tcp dport { 80, 443 } accept`
    : `iifname "${r.lan}" oifname "${r.wan}" accept`
  const fullCone = mode === 'fullcone'
    ? {
        // Public UDP port -> the LAN address and port that first used it.
        map: `
  map fullcone {
    type inet_service : ipv4_addr . inet_service
    flags dynamic, timeout
    timeout 5m
  }`,
        // A new inbound flow to a recorded port goes to the LAN endpoint behind it,
        // whoever sends it: endpoint-independent filtering.
        prerouting: `
  chain prerouting_nat {
    type nat hook prerouting priority dstnat; policy accept;
    iifname "${r.wan}" meta l4proto udp dnat ip to udp dport map @fullcone
  }`,
        // After masquerade (srcnat + 10) the UDP source port is the public one: record it.
        record: `
  chain record_mapping {
    type filter hook postrouting priority srcnat + 10; policy accept;
    oifname "${r.wan}" meta l4proto udp ct direction original update @fullcone { udp sport : ct original ip saddr . ct original proto-src }
  }`,
        forward: `\n    iifname "${r.wan}" oifname "${r.lan}" ct status dnat accept`
      }
    : { map: '', prerouting: '', record: '', forward: '' }
  return `table ip ${NAT_TABLE}
delete table ip ${NAT_TABLE}
table ip ${NAT_TABLE} {${fullCone.map}${fullCone.prerouting}
  chain postrouting_nat {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "${r.wan}" ip saddr ${r.lanSubnet} ${masquerade}
  }${fullCone.record}
  chain forward_filter {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    ${outbound}${fullCone.forward}
  }
  chain input_filter {
    type filter hook input priority filter; policy accept;
    iifname "${r.wan}" ct state established,related accept
    iifname "${r.wan}" drop
  }
}
`
}

/**
 * Counts every byte to and from the relay on its host (IP headers included): WSS on
 * TCP `wssPort`, WebRTC-Direct on UDP `webrtcDirectPort`.
 */
export function meterRuleset (wssPort: number, webrtcDirectPort: number): string {
  return `table inet ${METER_TABLE}
delete table inet ${METER_TABLE}
table inet ${METER_TABLE} {
  counter ${METER_COUNTER} {
  }
  chain input_meter {
    type filter hook input priority filter; policy accept;
    tcp dport ${wssPort} counter name "${METER_COUNTER}"
    udp dport ${webrtcDirectPort} counter name "${METER_COUNTER}"
  }
  chain output_meter {
    type filter hook output priority filter; policy accept;
    tcp sport ${wssPort} counter name "${METER_COUNTER}"
    udp sport ${webrtcDirectPort} counter name "${METER_COUNTER}"
  }
}
`
}
