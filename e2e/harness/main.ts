/**
 * The page both browsers load. It holds one Lifeline peer and records everything the
 * tests assert on (messages, path changes, closes), so a test reads what arrived
 * instead of racing events through `page.evaluate`. Imports only the public package.
 */
// First: it replaces RTCPeerConnection before the SDK's modules capture it.
import { peerConnectionCount, selectedCandidatePairs } from './peer-connections.js'
import { createPeer } from '@lifeline/sdk'
import type { Link, Peer, PeerInit } from '@lifeline/sdk'
import type {
  BlobRecord, HarnessApi, LinkRouteRecord, LinkSnapshot, NetworkRecord, NumberedSendOptions, RoomsApi,
  PathChangeRecord, RelayEventRecord, RelayStateRecord, SendProgress, StartOptions, TrackedConnectRecord
} from './api.js'
import { startBulk, randomBytes } from './payload.js'
import type { Bulk } from './payload.js'
import { sha256Hex } from './sha256.js'
import { attempt, errorOutcome } from './outcome.js'
import { retaining } from './retain.js'
import { roomsApi } from './rooms.js'

/** Messages larger than this are recorded as size + checksum instead of text. */
const BLOB_THRESHOLD = 64 * 1024

interface Remote {
  link: Link | undefined
  /** Link objects seen for this peer. */
  links: number
  texts: string[]
  /** `Date.now()` at each text's arrival. */
  textTimes: number[]
  blobs: BlobRecord[]
  pathChanges: PathChangeRecord[]
  numbered: SendProgress
  bulk: Bulk | undefined
}


let peer: Peer | undefined
const remotes = new Map<string, Remote>()
const relayHistory: RelayStateRecord[] = []
const relayEvents: RelayEventRecord[] = []
const networkHistory: NetworkRecord[] = []

// Recorded from page load: a test that takes the browser offline reads when the page saw it.
window.addEventListener('online', () => { networkHistory.push({ event: 'window-online', at: Date.now() }) })
window.addEventListener('offline', () => { networkHistory.push({ event: 'window-offline', at: Date.now() }) })
const decoder = new TextDecoder()

function remote (peerId: string): Remote {
  let entry = remotes.get(peerId)
  if (entry === undefined) {
    entry = {
      link: undefined,
      links: 0,
      texts: [],
      textTimes: [],
      blobs: [],
      pathChanges: [],
      numbered: { sent: 0, done: false, error: undefined },
      bulk: undefined
    }
    remotes.set(peerId, entry)
  }
  return entry
}

function requirePeer (): Peer {
  if (peer === undefined) {
    throw new Error('harness: start() was not called')
  }
  return peer
}

function requireLink (peerId: string): Link {
  const link = remotes.get(peerId)?.link
  if (link === undefined) {
    throw new Error(`harness: no link to ${peerId}`)
  }
  return link
}

/** Attach recorders once per Link object (a re-dial after close yields a new one). */
function track (link: Link): void {
  const entry = remote(link.remotePeerId)
  if (entry.link === link) {
    return
  }
  entry.link = link
  entry.links += 1
  link.addEventListener('message', (event) => {
    const data = event.detail
    if (data.byteLength <= BLOB_THRESHOLD) {
      entry.texts.push(decoder.decode(data))
      entry.textTimes.push(Date.now())
      return
    }
    entry.blobs.push({ size: data.byteLength, sha256: sha256Hex(data) })
  })
  link.addEventListener('pathchange', (event) => {
    entry.pathChanges.push({ path: event.detail.path, previous: event.detail.previous, at: Date.now() })
  })
}

function timeoutOption (timeoutMs: number | undefined): { signal?: AbortSignal } {
  return timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(timeoutMs) }
}

function peerInit (relays: string[], direct?: boolean, iceServers: RTCIceServer[] = [], reservations?: number): PeerInit {
  return {
    relays,
    iceServers,
    allowPrivateAddresses: true,
    ...(direct === undefined ? {} : { direct }),
    ...(reservations === undefined ? {} : { reservations })
  }
}

/** Record each relay's changes of state (the `relay` event also fires for RTT updates). */
function recordRelays (target: Peer): void {
  const last = new Map<string, string>()
  target.addEventListener('relay', ({ detail }) => {
    relayEvents.push({
      multiaddr: detail.multiaddr,
      state: detail.state,
      slow: detail.slow === true,
      rttMs: detail.rttMs,
      failures: detail.failures,
      lastError: detail.lastError,
      at: Date.now()
    })
    if (last.get(detail.multiaddr) === detail.state) {
      return
    }
    last.set(detail.multiaddr, detail.state)
    relayHistory.push({
      multiaddr: detail.multiaddr,
      state: detail.state,
      failures: detail.failures,
      lastError: detail.lastError,
      at: Date.now()
    })
  })
  target.addEventListener('online', ({ detail }) => {
    networkHistory.push({ event: detail ? 'peer-online' : 'peer-offline', at: Date.now() })
  })
}

function startInit (options: StartOptions): PeerInit {
  return peerInit(options.relays, options.direct, options.iceServers, options.reservations)
}

async function sendNumbered (link: Link, progress: SendProgress, options: NumberedSendOptions): Promise<void> {
  for (let n = 1; n <= options.count; n++) {
    await link.send(String(n))
    progress.sent = n
    if (n % options.pauseEvery === 0) {
      await new Promise((resolve) => setTimeout(resolve, options.pauseMs))
    }
  }
}

const api: Omit<HarnessApi, keyof RoomsApi> = {
  async start (options) {
    if (peer !== undefined) {
      throw new Error('harness: already started')
    }
    const created = await createPeer(startInit(options))
    created.addEventListener('link', (event) => { track(event.detail) })
    recordRelays(created)
    peer = created
    await created.start()
    await created.online()
    return created.peerId
  },

  async connect (peerId, timeoutMs) {
    return attempt(async () => {
      track(await requirePeer().connect(peerId, timeoutOption(timeoutMs)))
    })
  },

  async dialDirect (peerId, timeoutMs) {
    const started = performance.now()
    try {
      const signal = AbortSignal.timeout(timeoutMs)
      const link = await requirePeer().connect(peerId, { signal })
      track(link)
      const connectMs = performance.now() - started
      await link.waitForPath('direct', { signal })
      const directMs = performance.now() - started
      return { ok: true, ms: directMs, connectMs, directMs }
    } catch (err) {
      return errorOutcome(err, started)
    }
  },

  async send (peerId, text) {
    return attempt(async () => { await requireLink(peerId).send(text) })
  },

  async connectAndSend (peerId, text, timeoutMs) {
    const startedAt = Date.now()
    const started = performance.now()
    try {
      const link = await requirePeer().connect(peerId, { signal: AbortSignal.timeout(timeoutMs) })
      track(link)
      const connectMs = performance.now() - started
      await link.send(text)
      return { ok: true, ms: performance.now() - started, startedAt, connectMs }
    } catch (err) {
      return errorOutcome(err, started)
    }
  },

  startNumbered (peerId, options) {
    const link = requireLink(peerId)
    const progress: SendProgress = { sent: 0, done: false, error: undefined }
    remote(peerId).numbered = progress
    sendNumbered(link, progress, options).then(
      () => { progress.done = true },
      (err: unknown) => {
        progress.error = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
        progress.done = true
      }
    )
  },

  numberedProgress (peerId) {
    return { ...remote(peerId).numbered }
  },

  async sendPayload (peerId, size) {
    const started = performance.now()
    try {
      const payload = randomBytes(size)
      const digest = sha256Hex(payload)
      await requireLink(peerId).send(payload)
      return { ok: true, ms: performance.now() - started, size, sha256: digest }
    } catch (err) {
      return errorOutcome(err, started)
    }
  },

  received (peerId) {
    return [...remote(peerId).texts]
  },

  receivedTimes (peerId) {
    return [...remote(peerId).textTimes]
  },

  receivedBlobs (peerId) {
    return [...remote(peerId).blobs]
  },

  link (peerId): LinkSnapshot {
    const entry = remotes.get(peerId)
    const link = entry?.link
    if (entry === undefined || link === undefined) {
      return { known: false, path: undefined, rttMs: undefined, closed: false, direction: undefined, links: 0 }
    }
    return { known: true, path: link.path, rttMs: link.rttMs, closed: link.closed, direction: link.direction, links: entry.links }
  },

  linkRoute (peerId): LinkRouteRecord {
    // Read structurally: older SDK builds have neither field in LinkStatus.
    const entry: { relayPeerId?: unknown, paths?: unknown } | undefined =
      requirePeer().status().links.find((l) => l.peerId === peerId && l.state === 'open')
    return {
      relayPeerId: typeof entry?.relayPeerId === 'string' ? entry.relayPeerId : undefined,
      paths: typeof entry?.paths === 'number' ? entry.paths : undefined
    }
  },

  async connectTracked (peerId, timeoutMs) {
    const started = performance.now()
    const record: TrackedConnectRecord = { progress: [], relay: undefined }
    try {
      const link = await requirePeer().connect(peerId, {
        signal: AbortSignal.timeout(timeoutMs),
        onProgress: (event) => {
          record.progress.push(event)
          if (event.type === 'relayed') {
            record.relay ??= event.relay
          }
        }
      })
      track(link)
      return { ok: true, ms: performance.now() - started, ...record }
    } catch (err) {
      return errorOutcome(err, started)
    }
  },

  relayHistory () {
    return [...relayHistory]
  },

  relayEvents () {
    return [...relayEvents]
  },

  startBulk (peerId, options) {
    const entry = remote(peerId)
    if (entry.bulk?.progress.running === true) {
      throw new Error('harness: a bulk transfer is already running on this link')
    }
    entry.bulk = startBulk(requireLink(peerId), options, BLOB_THRESHOLD)
  },

  async stopBulk (peerId) {
    const bulk = remote(peerId).bulk
    if (bulk === undefined) {
      throw new Error(`harness: no bulk transfer to ${peerId}`)
    }
    bulk.stop.abort()
    await bulk.finished
    return { ...bulk.progress }
  },

  bulkProgress (peerId) {
    const progress = remote(peerId).bulk?.progress
    if (progress === undefined) {
      throw new Error(`harness: no bulk transfer to ${peerId}`)
    }
    return { ...progress }
  },

  networkHistory () {
    return [...networkHistory]
  },

  async waitForPath (peerId, path, timeoutMs) {
    return attempt(async () => {
      await requireLink(peerId).waitForPath(path, { signal: AbortSignal.timeout(timeoutMs) })
    })
  },

  pathChanges (peerId) {
    return [...remote(peerId).pathChanges]
  },

  async close (peerId) {
    return attempt(async () => { await requireLink(peerId).close() })
  },

  status () {
    return requirePeer().status()
  },

  peerConnections () {
    return peerConnectionCount()
  },

  async selectedPairs () {
    return selectedCandidatePairs()
  },

  async stop () {
    await peer?.stop()
  },

  async tryCreatePeer (relays) {
    return attempt(async () => {
      const probe = await createPeer(peerInit(relays))
      try {
        await probe.start()
      } catch (err) {
        // The start error is the one under test; a failing stop() must not replace it.
        await probe.stop().catch(() => undefined)
        throw err
      }
      await probe.stop()
    })
  },

  async stoppedPeerId (relays) {
    const other = await createPeer(peerInit(relays))
    await other.start()
    try {
      await other.online()
    } finally {
      await other.stop()
    }
    return other.peerId
  }
}

window.lifeline = retaining({ ...api, ...roomsApi(requirePeer) })
const state = document.getElementById('state')
if (state !== null) {
  state.textContent = 'ready'
}
