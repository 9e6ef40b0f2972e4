/**
 * Checks the NAT lab itself, without browsers or the SDK: each router mode maps and
 * filters UDP as its name says (RFC 4787 terms), seen with STUN from the LAN host and
 * with an unsolicited datagram from the relay host; the firewall passes TCP 80/443.
 */
import { expect, test } from './fixtures.js'
import type { NatLabServices } from './fixtures.js'
import type { NatMode } from './nat-rules.js'
import { RELAY_PORT, SITE_PORT, STUN_PORT, UDP_PROBE } from './services.js'

/** How long the LAN socket listens for the unsolicited datagram. */
const LISTEN_MS = 1500
/** Source port of the unsolicited datagram: one the LAN host never sent to. */
const STRANGER_PORT = 5555

interface Probe {
  /** Public address the router gave the LAN socket, seen by STUN on each relay host address. */
  mapped: (string | null)[]
  /** Whether a datagram from a port the LAN host never contacted reached it. */
  unsolicitedDelivered: boolean
}

let nextPort = 40_000

/** From LAN A: STUN to both coturn addresses from one socket, then wait for a stranger's datagram. */
async function probe ({ lab }: NatLabServices, mode: NatMode): Promise<Probe> {
  await lab.setNat('A', mode)
  nextPort += 1
  const listener = lab.spawnIn(lab.lanNs('A'), 'probe', process.execPath, [
    UDP_PROBE, 'stun-listen', String(nextPort), String(LISTEN_MS), `${lab.relayIp}:${STUN_PORT}`, `${lab.relayAltIp}:${STUN_PORT}`
  ])
  await listener.waitForLine(/^ready$/, 10_000)
  const answers = listener.lines().filter((line) => line.startsWith('{"server"'))
    .map((line) => (JSON.parse(line) as { mapped: string | null }).mapped)
  const first = answers[0]
  if (first !== null && first !== undefined) {
    const [ip = '', port = ''] = first.split(':')
    await lab.execIn(lab.relayNs, process.execPath, [UDP_PROBE, 'send', ip, port, String(STRANGER_PORT)])
  }
  await listener.exited
  return {
    mapped: answers,
    unsolicitedDelivered: listener.lines().includes(JSON.stringify({ from: `${lab.relayIp}:${STRANGER_PORT}` }))
  }
}

async function tcpConnects ({ lab }: NatLabServices, port: number): Promise<boolean> {
  const script = `require('net').connect(${port}, '${lab.relayIp}').on('connect', () => process.exit(0)).on('error', () => process.exit(1)).setTimeout(2000, () => process.exit(1))`
  return lab.execIn(lab.lanNs('A'), process.execPath, ['-e', script]).then(() => true, () => false)
}

test('lab: eim maps every destination to one public port and drops datagrams from strangers', async ({ natlab }) => {
  const result = await probe(natlab, 'eim')
  expect(result.mapped[0], 'STUN sees router A').toMatch(new RegExp(`^${natlab.lab.publicIp('A')}:\\d+$`))
  expect(result.mapped[1], 'the same mapping towards a second destination').toBe(result.mapped[0])
  expect(result.unsolicitedDelivered, 'port-restricted filtering').toBe(false)
})

test('lab: fullcone maps like eim and lets anyone send to a mapped port', async ({ natlab }) => {
  const result = await probe(natlab, 'fullcone')
  expect(result.mapped[0]).toMatch(new RegExp(`^${natlab.lab.publicIp('A')}:\\d+$`))
  expect(result.mapped[1]).toBe(result.mapped[0])
  expect(result.unsolicitedDelivered, 'endpoint-independent filtering').toBe(true)
})

test('lab: symmetric gives each destination its own public port', async ({ natlab }) => {
  const result = await probe(natlab, 'symmetric')
  expect(result.mapped[0]).toMatch(new RegExp(`^${natlab.lab.publicIp('A')}:\\d+$`))
  expect(result.mapped[1]).toMatch(new RegExp(`^${natlab.lab.publicIp('A')}:\\d+$`))
  expect(result.mapped[1], 'a second destination gets another port').not.toBe(result.mapped[0])
  expect(result.unsolicitedDelivered).toBe(false)
})

test('lab: udpblock drops all UDP and passes TCP to ports 80 and 443 only', async ({ natlab }) => {
  const result = await probe(natlab, 'udpblock')
  expect(result.mapped, 'no STUN answer').toEqual([null, null])
  expect(await tcpConnects(natlab, RELAY_PORT), 'TCP 443 (the relay)').toBe(true)
  expect(await tcpConnects(natlab, SITE_PORT), 'TCP 80 (the page)').toBe(true)
  // The STUN server also listens on TCP 3478: the firewall must not let that out.
  expect(await tcpConnects(natlab, STUN_PORT), 'TCP 3478').toBe(false)
})
