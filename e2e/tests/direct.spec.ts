import { expect, test } from '../lab/fixtures.js'
import { expectDelivered, expectDirect, linkAndGreet, startBoth } from '../lab/steps.js'

test('connects relayed at once, becomes direct, and keeps talking after the relay process is killed', async ({ relay, a, b }) => {
  await startBoth(relay.multiaddr, a, b)
  await linkAndGreet(a, b)
  await expectDirect(a, b)

  // The link started on the relay and was upgraded; nothing else happened.
  expect(await a.pathChanges(b.peerId)).toMatchObject([{ previous: 'relayed', path: 'direct' }])
  expect(await b.pathChanges(a.peerId)).toMatchObject([{ previous: 'relayed', path: 'direct' }])

  relay.process.kill('SIGKILL')
  await relay.process.exited
  await expect.poll(async () => (await a.status()).relays.map((r) => r.state), {
    message: 'A has lost its relay'
  }).not.toContain('reserved')

  await expectDelivered(a, b, 'after the relay died, from A')
  await expectDelivered(b, a, 'after the relay died, from B')
  expect(await a.path(b.peerId)).toBe('direct')
  expect(await b.path(a.peerId)).toBe('direct')
})
