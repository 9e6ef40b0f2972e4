// A peer that joins one room and prints its peer ID once it is in it; see peer-process.ts.
import { createPeer } from '../dist/index.js'

const [relay, roomNamespace, room] = process.argv.slice(2)
const peer = await createPeer({ relays: [relay], roomNamespace, allowPrivateAddresses: true, direct: false })
await peer.start()
await peer.join(room, { metadata: 'child' })
process.stdout.write(`${peer.peerId}\n`)
