/**
 * Payloads the harness sends: random bytes, and a bulk transfer that repeats one
 * random chunk until told to stop, so a test can keep a link busy for a while.
 */
import type { Link } from '@lifeline/sdk'
import type { BulkOptions, BulkProgress } from './api.js'
import { sha256Hex } from './sha256.js'

/** crypto.getRandomValues() fills at most 64 KiB per call. */
const RANDOM_CHUNK_BYTES = 65_536

export function randomBytes (size: number): Uint8Array {
  const bytes = new Uint8Array(size)
  for (let offset = 0; offset < size; offset += RANDOM_CHUNK_BYTES) {
    crypto.getRandomValues(bytes.subarray(offset, Math.min(size, offset + RANDOM_CHUNK_BYTES)))
  }
  return bytes
}

export interface Bulk {
  progress: BulkProgress
  /** Aborted by stopBulk(): the loop stops, a send still waiting for room is abandoned. */
  stop: AbortController
  /** Settles when the sending loop has exited. */
  finished: Promise<void>
}

async function sendRounds (link: Link, bulk: Bulk, options: BulkOptions): Promise<void> {
  // one chunk, sent again and again: every checksum the receiver records must equal its own
  const chunk = randomBytes(options.chunkBytes)
  bulk.progress.chunkSha256 = sha256Hex(chunk)
  const perRound = options.roundBytes / options.chunkBytes
  const stopped = bulk.stop.signal
  // a function, not a property read: the compiler would take the first check for all
  const isStopped = (): boolean => stopped.aborted
  for (;;) {
    for (let i = 0; i < perRound; i++) {
      if (isStopped()) {
        return
      }
      try {
        // a send waiting for room in the send buffer gives up when the transfer is stopped
        await link.send(chunk, { signal: stopped })
      } catch (err) {
        if (isStopped()) {
          return
        }
        throw err
      }
      bulk.progress.bytesSent += chunk.byteLength
    }
    bulk.progress.rounds += 1
  }
}

/**
 * Start sending rounds of `options.roundBytes` over `link` in the background. Chunks
 * must be larger than `blobThreshold`, so the receiving harness records each as a
 * blob (size and checksum), never as text.
 */
export function startBulk (link: Link, options: BulkOptions, blobThreshold: number): Bulk {
  if (!Number.isInteger(options.chunkBytes) || options.chunkBytes <= blobThreshold || options.roundBytes % options.chunkBytes !== 0) {
    throw new Error(`harness: chunks must be over ${blobThreshold} bytes and divide the round (${options.chunkBytes}, ${options.roundBytes})`)
  }
  const bulk: Bulk = {
    progress: { rounds: 0, bytesSent: 0, running: true, error: undefined, chunkSha256: undefined },
    stop: new AbortController(),
    finished: Promise.resolve()
  }
  bulk.finished = sendRounds(link, bulk, options).then(
    () => { bulk.progress.running = false },
    (err: unknown) => {
      bulk.progress.error = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
      bulk.progress.running = false
    }
  )
  return bulk
}
