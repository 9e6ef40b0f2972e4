/**
 * The measurements every scenario makes the same way, over a `Pipe`: the first
 * message, echo round trips, and a bulk transfer. Browser A runs `measureRtt` and
 * `measureThroughput`; browser B runs `answer`, which expects exactly that sequence.
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { BULK_BYTES, CHUNK_BYTES, CIPHER_BYTES, FILE_BYTES, FIRST_MESSAGE, PING_BYTES, PINGS } from '../shared.js'
import { now } from './exchange.js'
import { profiled } from './profile.js'
import type { Mailbox } from './exchange.js'

/**
 * Bytes in arrival order from a message-based or stream-based transport: messages
 * and stream chunks are read the same way, by byte count.
 */
export class ByteReader {
  private readonly queue: Uint8Array[] = []
  private queued = 0
  private wake: (() => void) | undefined
  private failure: Error | undefined

  push (chunk: Uint8Array): void {
    this.queue.push(chunk)
    this.queued += chunk.byteLength
    this.notify()
  }

  /** Reads waiting now and later reject with `err` (the transport closed). */
  fail (err: Error): void {
    this.failure ??= err
    this.notify()
  }

  /** Exactly `size` bytes, once they have arrived. */
  async read (size: number): Promise<Uint8Array<ArrayBuffer>> {
    while (this.queued < size) {
      await this.more()
    }
    const out = new Uint8Array(size)
    let filled = 0
    while (filled < size) {
      const taken = this.take(size - filled)
      out.set(taken, filled)
      filled += taken.byteLength
    }
    return out
  }

  /** Consume `size` bytes as they arrive, without keeping them; `onChunk` sees each arrival. */
  async discard (size: number, onChunk?: () => void): Promise<void> {
    let left = size
    while (left > 0) {
      while (this.queued === 0) {
        await this.more()
      }
      left -= this.take(left).byteLength
      onChunk?.()
    }
  }

  /** Up to `max` bytes from the head of the queue (which is not empty). */
  private take (max: number): Uint8Array {
    const head = this.queue[0]
    if (head === undefined) {
      throw new Error('ByteReader: nothing queued')
    }
    const taken = head.byteLength <= max ? head : head.subarray(0, max)
    if (taken === head) {
      this.queue.shift()
    } else {
      this.queue[0] = head.subarray(max)
    }
    this.queued -= taken.byteLength
    return taken
  }

  /** Waits for the next chunk; callers loop, so a failure is seen on the next call. */
  private async more (): Promise<void> {
    if (this.failure !== undefined) {
      throw this.failure
    }
    await new Promise<void>((resolve) => { this.wake = resolve })
  }

  private notify (): void {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }
}

/** One direction of a transport plus the reader of the other. */
export interface Pipe {
  /**
   * Sends `data`; resolves when the transport can take more (its backpressure). Not
   * over a SharedArrayBuffer: RTCDataChannel.send() refuses those.
   */
  send(data: Uint8Array<ArrayBuffer>): Promise<void>
  readonly reader: ByteReader
}

export function median (values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y)
  const middle = Math.floor(sorted.length / 2)
  const upper = sorted[middle] ?? Number.NaN
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? Number.NaN) + upper) / 2
}

export function firstMessage (): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(FIRST_MESSAGE)
}

/** PINGS echo round trips in ms, one message in flight at a time. */
export async function measureRtt (pipe: Pipe): Promise<number[]> {
  const ping = new Uint8Array(PING_BYTES)
  const samples: number[] = []
  for (let i = 0; i < PINGS; i++) {
    ping[0] = i
    const sent = performance.now()
    await pipe.send(ping)
    const pong = await pipe.reader.read(PING_BYTES)
    samples.push(performance.now() - sent)
    if (pong[0] !== i) {
      throw new Error(`echo ${i} came back as ${pong[0] ?? 'nothing'}`)
    }
  }
  return samples
}

/** Sends BULK_BYTES in CHUNK_BYTES messages; MB/s until B has received the last byte. */
export async function measureThroughput (pipe: Pipe, mailbox: Mailbox): Promise<number> {
  const chunk = new Uint8Array(CHUNK_BYTES)
  crypto.getRandomValues(chunk)
  const started = now()
  const receivedAt = await profiled('bulk', async () => {
    for (let sent = 0; sent < BULK_BYTES; sent += CHUNK_BYTES) {
      await pipe.send(BULK_BYTES - sent >= CHUNK_BYTES ? chunk : chunk.subarray(0, BULK_BYTES - sent))
    }
    return mailbox.getNumber('bulk-at')
  })
  return BULK_BYTES / 1e6 / ((receivedAt - started) / 1000)
}

/**
 * The JavaScript cipher both stacks run in a browser (@noble/ciphers' ChaCha20-Poly1305,
 * behind Noise), by itself in this page: MB/s sealing and opening CIPHER_BYTES in
 * CHUNK_BYTES messages, as Noise does (a fresh nonce per message). On a relayed path
 * every byte is sealed twice by the sending page (end to end, then to the relay) and
 * opened twice by the receiving one, so half of the smaller figure is what a relayed
 * transfer could reach if the pages did nothing else.
 */
export function measureCipher (): { cipherSealMBps: number, cipherOpenMBps: number } {
  const key = crypto.getRandomValues(new Uint8Array(32))
  const plaintext = crypto.getRandomValues(new Uint8Array(CHUNK_BYTES))
  const nonce = (n: number): Uint8Array => {
    const bytes = new Uint8Array(12)
    new DataView(bytes.buffer).setUint32(4, n, true)
    return bytes
  }
  const messages = Math.ceil(CIPHER_BYTES / CHUNK_BYTES)
  const sealed: Uint8Array[] = []
  let started = performance.now()
  for (let n = 0; n < messages; n++) {
    sealed.push(chacha20poly1305(key, nonce(n)).encrypt(plaintext))
  }
  const sealMs = performance.now() - started
  started = performance.now()
  for (let n = 0; n < messages; n++) {
    chacha20poly1305(key, nonce(n)).decrypt(sealed[n] ?? new Uint8Array())
  }
  const openMs = performance.now() - started
  const mb = messages * CHUNK_BYTES / 1e6
  return { cipherSealMBps: mb / (sealMs / 1000), cipherOpenMBps: mb / (openMs / 1000) }
}

/**
 * Sends a FILE_BYTES file in CHUNK_BYTES messages after the bulk transfer: its MB/s, and
 * the longest pause in its progress at B (a stall shows there, not in an average).
 */
export async function sendFile (pipe: Pipe, mailbox: Mailbox): Promise<{ fileMBps: number, fileMaxStallMs: number }> {
  const chunk = new Uint8Array(CHUNK_BYTES)
  crypto.getRandomValues(chunk)
  const started = now()
  for (let sent = 0; sent < FILE_BYTES; sent += CHUNK_BYTES) {
    await pipe.send(FILE_BYTES - sent >= CHUNK_BYTES ? chunk : chunk.subarray(0, FILE_BYTES - sent))
  }
  const receivedAt = await mailbox.getNumber('file-at')
  return { fileMBps: FILE_BYTES / 1e6 / ((receivedAt - started) / 1000), fileMaxStallMs: await mailbox.getNumber('file-stall') }
}

/** B's side of sendFile(): the longest time between two arrivals, from the first on. */
export async function receiveFile (pipe: Pipe, mailbox: Mailbox): Promise<void> {
  let last: number | undefined
  let longest = 0
  await pipe.reader.discard(FILE_BYTES, () => {
    const at = now()
    longest = Math.max(longest, at - (last ?? at))
    last = at
  })
  await mailbox.put('file-at', now())
  await mailbox.put('file-stall', longest)
}

/**
 * Browser B's side: note when the first message arrives, run `beforeEcho` (e.g. wait
 * for the direct path), echo the pings, note when the last bulk byte arrives.
 */
export async function answer (pipe: Pipe, mailbox: Mailbox, beforeEcho?: () => Promise<void>): Promise<void> {
  await pipe.reader.read(firstMessage().byteLength)
  await mailbox.put('first-at', now())
  await beforeEcho?.()
  for (let i = 0; i < PINGS; i++) {
    await pipe.send(await pipe.reader.read(PING_BYTES))
  }
  await profiled('bulk', async () => {
    await pipe.reader.discard(BULK_BYTES)
    await mailbox.put('bulk-at', now())
  })
}
