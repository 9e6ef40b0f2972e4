import { expect, test } from '../lab/fixtures.js'
import { expectDirect, linkAndGreet, numbered, startBoth } from '../lab/steps.js'

const COUNT = 2000

test('loses nothing when the direct path dies mid-conversation', async ({ lab, relay, a, b }) => {
  test.setTimeout(120_000)
  await startBoth(relay.multiaddr, a, b)
  await linkAndGreet(a, b)
  await expectDirect(a, b)

  // About 4 s of sending: a 100 ms pause after every 50 messages.
  await a.startNumbered(b.peerId, { count: COUNT, pauseEvery: 50, pauseMs: 100 })
  await expect.poll(async () => (await a.numberedProgress(b.peerId)).sent).toBeGreaterThanOrEqual(Math.floor(COUNT / 3))
  await lab.blockUdp(lab.nsB)
  const blockedAt = Date.now()

  await expect.poll(() => a.numberedProgress(b.peerId), {
    timeout: 60_000,
    message: 'A finishes sending without an error'
  }).toEqual({ sent: COUNT, done: true, error: undefined })
  await expect.poll(async () => (await b.received(a.peerId)).length, {
    timeout: 60_000,
    message: 'B receives every message'
  }).toBeGreaterThanOrEqual(COUNT + 1)
  // Exactly once and in order: the greeting, then 1..COUNT, nothing else.
  expect(await b.received(a.peerId)).toEqual(['hello from A', ...numbered(COUNT)])

  for (const [side, changes] of [['A', await a.pathChanges(b.peerId)], ['B', await b.pathChanges(a.peerId)]] as const) {
    const fallback = changes.find((change) => change.previous === 'direct' && change.path === 'relayed')
    expect(fallback, `${side} reported a pathchange to 'relayed'`).toBeDefined()
    if (fallback !== undefined) {
      console.log(`${side}: fell back to the relay ${fallback.at - blockedAt} ms after UDP was blocked`)
    }
  }
  expect(await a.path(b.peerId)).toBe('relayed')
})
