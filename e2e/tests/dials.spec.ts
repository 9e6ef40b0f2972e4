import { expect, test } from '../lab/fixtures.js'
import { expectOk, startBoth } from '../lab/steps.js'

const DIALS = 20
/**
 * @libp2p/webrtc 6.0.33 leaves ~8 % of dials hanging until its 6 s address-dial
 * timeout, which the SDK must route around. A dial that reaches direct before that
 * timeout could have fired was not left hanging: asserted as that, not as a latency
 * (dials measured 108-1279 ms on one machine; the times are printed).
 */
const UPSTREAM_HANG_MS = 6000
/** Longer than the upstream hang, so a hung dial is measured rather than cut off. */
const DIAL_DEADLINE_MS = 8000

test('reaches direct on each of 20 consecutive dials', async ({ relay, a, b }) => {
  test.setTimeout(DIALS * (DIAL_DEADLINE_MS + 2000) + 30_000)
  await startBoth(relay.multiaddr, a, b)

  const results: string[] = []
  const slow: string[] = []
  for (let dial = 1; dial <= DIALS; dial++) {
    const before = await a.peerConnections()
    const outcome = await a.dialDirect(b.peerId, DIAL_DEADLINE_MS)
    const line = outcome.ok
      ? `dial ${dial}: connect ${Math.round(outcome.connectMs)} ms, direct ${Math.round(outcome.directMs)} ms`
      : `dial ${dial}: failed after ${Math.round(outcome.ms)} ms: ${outcome.code ?? ''} ${outcome.message}`
    results.push(line)
    if (!outcome.ok || outcome.directMs >= UPSTREAM_HANG_MS) {
      slow.push(line)
    }
    // A fresh WebRTC connection each time, not the previous one reused.
    expect((await a.peerConnections()).created, `dial ${dial}: A made a new RTCPeerConnection`).toBeGreaterThan(before.created)

    expectOk(await a.close(b.peerId), `dial ${dial}: A closes the link`)
    await expect.poll(async () => (await a.link(b.peerId)).closed, { message: `dial ${dial}: A sees the link closed` }).toBe(true)
    await expect.poll(async () => (await b.link(a.peerId)).closed, { message: `dial ${dial}: B sees the link closed` }).toBe(true)
    // Closing the link closes its direct connection on both sides.
    await expect.poll(async () => (await a.peerConnections()).open, { message: `dial ${dial}: A has no open RTCPeerConnection` }).toBe(0)
    await expect.poll(async () => (await b.peerConnections()).open, { message: `dial ${dial}: B has no open RTCPeerConnection` }).toBe(0)
  }

  console.log(results.join('\n'))
  expect(slow, `every dial direct before the upstream ${UPSTREAM_HANG_MS} ms hang could have ended`).toEqual([])
})
