// The victim of the hostile-peer suite: a real Lifeline peer (the built package) in a
// process of its own, so its heap is its own. It behaves as a plain app would: it reads
// every message of the links it was told are honest and checks their order, gives every
// other link a messages() reader that never reads (a slow app), and answers the test's
// questions over the IPC channel. Plain JS: it runs the built dist.
import { createPeer } from '../../dist/index.js'

/** Heap samples are taken this often, so a short-lived peak is seen. */
const HEAP_SAMPLE_MS = 20

const [relay, maxInboundLinks] = process.argv.slice(2)
const peer = await createPeer({
  relays: [relay],
  allowPrivateAddresses: true,
  direct: false,
  maxInboundLinks: Number(maxInboundLinks)
})
const honest = new Map()
const closes = []
let maxHeap = 0
/** The JS heap and the array buffers outside it, where message payloads live. */
const heapUsed = () => {
  const usage = process.memoryUsage()
  return usage.heapUsed + usage.external
}
const sample = () => { maxHeap = Math.max(maxHeap, heapUsed()) }
setInterval(sample, HEAP_SAMPLE_MS).unref()
/**
 * What is really held (not garbage yet to be collected) is sampled after a full GC,
 * this often: costly, but bounded to the suite.
 */
const LIVE_SAMPLE_MS = 250
let maxLive = 0
setInterval(() => {
  globalThis.gc()
  maxLive = Math.max(maxLive, heapUsed())
}, LIVE_SAMPLE_MS).unref()

peer.addEventListener('link', ({ detail: link }) => {
  link.addEventListener('close', e => {
    closes.push({ remote: link.remotePeerId, code: e.detail?.code ?? 'CLOSED' })
  })
  const state = honest.get(link.remotePeerId)
  if (state === undefined) {
    // a slow app: it reads nothing, and lets go of its reader when the link closes
    const reader = link.messages()
    link.addEventListener('close', () => { void reader.return() })
    return
  }
  void (async () => {
    for await (const message of link.messages()) {
      const n = Number(new TextDecoder().decode(message))
      if (n !== state.received) {
        state.inOrder = false
      }
      state.received = n + 1
    }
  })()
})

const sends = new Map()

const handlers = {
  honest: ({ peerId }) => { honest.set(peerId, { received: 0, inOrder: true }) },
  heap: ({ gc }) => {
    if (gc === true) {
      globalThis.gc()
    }
    sample()
    const result = { heapUsed: heapUsed(), maxHeap, maxLive }
    maxHeap = result.heapUsed
    maxLive = result.heapUsed
    return result
  },
  state: () => ({
    links: peer.links().length,
    honest: Object.fromEntries(honest),
    closes,
    sends: Object.fromEntries(sends)
  }),
  // send `count` messages of `bytes` to `to` in the background, counting those taken
  send: ({ to, bytes, count }) => {
    const link = peer.links().find(l => l.remotePeerId === to)
    if (link === undefined) {
      throw new Error(`no link to ${to}`)
    }
    const progress = { taken: 0, error: undefined }
    sends.set(to, progress)
    void (async () => {
      for (let i = 0; i < count; i++) {
        await link.send(new Uint8Array(bytes))
        progress.taken++
      }
    })().catch(err => { progress.error = err.code ?? err.message })
  }
}

process.on('message', message => {
  try {
    const result = handlers[message.type](message)
    process.send({ id: message.id, result })
  } catch (err) {
    process.send({ id: message.id, error: err.message })
  }
})
process.on('disconnect', () => { void peer.stop().finally(() => process.exit(0)) })

await peer.start()
await peer.online()
process.send({ type: 'ready', peerId: peer.peerId })
