/**
 * Rooms across a fleet: three Chromiums, two relays sharing one Redis. A holds a
 * reservation on relay 1 only, B and C on relay 2 only, so A and the others share no
 * relay: they find each other through the relays' shared directory and link through
 * the relay of either. Closing a browser makes its member leave for the others.
 */
import { expect, test } from '../lab/fixtures.js'
import type { HarnessPage } from '../lab/harness-client.js'
import { expectOk } from '../lab/steps.js'

test.use({ relayCount: 2, redis: true })

const ROOM = 'e2e-room'

async function names (page: HarnessPage): Promise<string[]> {
  return (await page.roomMembers()).map((member) => member.name)
}

async function textsFrom (page: HarnessPage, from: HarnessPage): Promise<string[]> {
  return (await page.roomMessages()).filter((m) => m.from === from.peerId).map((m) => m.text)
}

test('three browsers on two relays see each other in a room, chat reaches everyone, and a closed browser leaves', async ({ relays, a, b, c }) => {
  const [r1, r2] = relays
  if (r1 === undefined || r2 === undefined) {
    throw new Error('two relays expected')
  }
  await Promise.all([a.start([r1.multiaddr]), b.start([r2.multiaddr]), c.start([r2.multiaddr])])
  expectOk(await a.joinRoom(ROOM, 'Ann', true), 'Ann joins')
  expectOk(await b.joinRoom(ROOM, 'Bob', true), 'Bob joins')
  expectOk(await c.joinRoom(ROOM, 'Cat', true), 'Cat joins')

  await expect.poll(() => names(a), { message: 'Ann sees Bob and Cat' }).toEqual(['Bob', 'Cat'])
  await expect.poll(() => names(b), { message: 'Bob sees Ann and Cat' }).toEqual(['Ann', 'Cat'])
  await expect.poll(() => names(c), { message: 'Cat sees Ann and Bob' }).toEqual(['Ann', 'Bob'])

  // autoConnect links everyone to everyone; a room message goes over those links
  await expect.poll(async () => (await a.status()).links.filter((l) => l.state === 'open').length, { message: 'Ann is linked to both' }).toBe(2)
  expectOk(await a.roomSend('hello from Ann'), 'Ann sends to the room')
  await expect.poll(() => textsFrom(b, a), { message: 'Bob gets it' }).toEqual(['hello from Ann'])
  await expect.poll(() => textsFrom(c, a), { message: 'Cat gets it' }).toEqual(['hello from Ann'])
  await expect.poll(async () => (await c.status()).links.filter((l) => l.state === 'open').length, { message: 'Cat is linked to both' }).toBe(2)
  expectOk(await c.roomSend('hello from Cat'), 'Cat sends to the room')
  await expect.poll(() => textsFrom(a, c), { message: 'Ann gets it' }).toEqual(['hello from Cat'])
  await expect.poll(() => textsFrom(b, c), { message: 'Bob gets it' }).toEqual(['hello from Cat'])

  // Cat's tab goes away without a goodbye
  await c.page.close()
  await expect.poll(() => names(a), { message: 'Ann sees Cat leave' }).toEqual(['Bob'])
  await expect.poll(() => names(b), { message: 'Bob sees Cat leave' }).toEqual(['Ann'])
  expect((await a.roomEvents()).filter((e) => e.type === 'leave').map((e) => e.name)).toEqual(['Cat'])
})
