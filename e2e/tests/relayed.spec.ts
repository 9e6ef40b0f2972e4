import { expect, test } from '../lab/fixtures.js'
import { expectDelivered, expectHolds, expectOk, linkAndGreet, startBoth } from '../lab/steps.js'

/** As long as the SDK gives one direct dial attempt (DIRECT_DIAL_ATTEMPT_TIMEOUT_MS). */
const STAYS_RELAYED_MS = 8000
const PAYLOAD_BYTES = 5_000_000

test('stays relayed when UDP is blocked for one browser and carries a 5 MB payload intact', async ({ lab, relay, a, b }) => {
  test.setTimeout(120_000)
  await lab.blockUdp(lab.nsB)
  await startBoth(relay.multiaddr, a, b)
  await linkAndGreet(a, b)

  await expectHolds(async () => [await a.path(b.peerId), await b.path(a.peerId)], ['relayed', 'relayed'],
    STAYS_RELAYED_MS, 'both sides stay relayed')
  expect(await a.pathChanges(b.peerId)).toEqual([])

  const sent = await a.sendPayload(b.peerId, PAYLOAD_BYTES)
  expectOk(sent, 'A sends the payload')
  if (!sent.ok) {
    return
  }
  await expect.poll(() => b.receivedBlobs(a.peerId), {
    timeout: 60_000,
    message: 'B receives the payload with the same size and SHA-256'
  }).toEqual([{ size: PAYLOAD_BYTES, sha256: sent.sha256 }])

  // The link is still usable both ways after the bulk transfer.
  await expectDelivered(a, b, 'after the payload, from A')
  await expectDelivered(b, a, 'after the payload, from B')
})
