import { expect, test } from '../lab/fixtures.js'

/** The relay refuses a circuit to a peer without a reservation at once; allow for slow CI. */
const UNREACHABLE_WITHIN_MS = 10_000

test('rejects bad input with clear errors', async ({ relay, a }) => {
  await a.start([relay.multiaddr])

  // Each error names the offending input.
  expect(await a.connect('not-a-peer-id'), 'connect to a malformed peer ID').toMatchObject({
    ok: false, code: 'INVALID_PEER_ID', message: expect.stringContaining('not-a-peer-id')
  })
  expect(await a.tryCreatePeer(['garbage']), 'createPeer with a malformed relay').toMatchObject({
    ok: false, code: 'INVALID_MULTIADDR', message: expect.stringContaining('garbage')
  })

  // A real peer ID whose peer went offline: no relay holds a reservation for it.
  const gone = await a.stoppedPeerId([relay.multiaddr])
  const outcome = await a.connect(gone)
  expect(outcome, 'connect to a peer that is offline').toMatchObject({ ok: false, code: 'PEER_UNREACHABLE' })
  expect(outcome.ms).toBeLessThan(UNREACHABLE_WITHIN_MS)
})
