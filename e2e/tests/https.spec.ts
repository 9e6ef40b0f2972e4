/**
 * A page served over HTTPS, as every production web app is: it may not open ws://
 * (mixed content), so it reaches the relay over WSS or WebRTC-Direct. The page's and
 * the relay's certificates come from a CA made for the test and trusted by both
 * Chromiums' NSS databases; nothing in the browser ignores certificate errors.
 * The relay serves WSS on TCP 443 and WebRTC-Direct on UDP 4443 (Chromium sends no
 * WebRTC traffic to a port below 1024).
 */
import { expect, test } from '../lab/fixtures.js'
import type { HarnessPage } from '../lab/harness-client.js'
import type { RelayHandle } from '../lab/services.js'
import { linkAndGreet } from '../lab/steps.js'

test.use({ https: true })

function addressOf (relay: RelayHandle, transport: 'wss' | 'webrtc-direct'): string {
  const pattern = transport === 'wss' ? /\/tcp\/443\/tls\/ws\/p2p\// : /\/udp\/4443\/webrtc-direct\/certhash\/[^/]+\/p2p\//
  const address = relay.multiaddrs.find((ma) => pattern.test(ma))
  if (address === undefined) {
    throw new Error(`the relay printed no ${transport} address: ${relay.multiaddrs.join(' ')}`)
  }
  return address
}

async function heldOver (peer: HarnessPage): Promise<Array<string | undefined>> {
  return (await peer.status()).relays.filter((r) => r.state === 'reserved').map((r) => r.transport)
}

test('an https page holds its reservation over WSS and links to another one', async ({ relay, site, a, b }) => {
  expect(site).toMatch(/^https:\/\//)
  const wss = addressOf(relay, 'wss')
  await Promise.all([a.start([wss], false), b.start([wss], false)])
  expect(await heldOver(a)).toEqual(['wss'])
  expect(await heldOver(b)).toEqual(['wss'])
  await linkAndGreet(a, b)
})

test('an https page holds its reservation over WebRTC-Direct and links to another one', async ({ relay, site, a, b }) => {
  expect(site).toMatch(/^https:\/\//)
  const webrtcDirect = addressOf(relay, 'webrtc-direct')
  await Promise.all([a.start([webrtcDirect], false), b.start([webrtcDirect], false)])
  expect(await heldOver(a)).toEqual(['webrtc-direct'])
  expect(await heldOver(b)).toEqual(['webrtc-direct'])
  await linkAndGreet(a, b)
})

test('given both addresses, a page whose firewall drops TCP 443 holds the relay over WebRTC-Direct, the other over WSS, and they talk', async ({ lab, relay, a, b }) => {
  await lab.dropTcpPort(lab.nsB, 443)
  const both = [addressOf(relay, 'webrtc-direct'), addressOf(relay, 'wss')]
  await Promise.all([a.start(both, false), b.start(both, false)])
  expect(await heldOver(a)).toEqual(['wss'])
  expect(await heldOver(b)).toEqual(['webrtc-direct'])
  await linkAndGreet(a, b)
})

test('given both addresses, a page whose firewall drops UDP holds the relay over WSS', async ({ lab, relay, b }) => {
  await lab.blockUdp(lab.nsB)
  await b.start([addressOf(relay, 'webrtc-direct'), addressOf(relay, 'wss')], false)
  expect(await heldOver(b)).toEqual(['wss'])
})
