// A blank app that uses only createPeer: what the SDK costs a page (`pnpm size`).
import { createPeer } from '@lifeline/sdk'

const peer = await createPeer({
  relays: ['/dns4/relay.example.com/tcp/443/wss/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo']
})
await peer.start()
