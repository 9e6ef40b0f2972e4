/**
 * Files between room members, over their links: the sender offers, streams chunks
 * (each `send()` waits while the link's buffer is full, so a large file never sits in
 * memory twice) and the receiver reports progress back every PROGRESS_EVERY_BYTES.
 * The receiver keeps the chunks until the file is whole, then hands out a Blob.
 */
import { FILE_CHUNK_BYTES, encode } from './wire.js'
import type { DemoMessage } from './wire.js'

/** The receiver reports this often: often enough for a smooth bar, rarely enough to cost nothing. */
const PROGRESS_EVERY_BYTES = 512 * 1024
/** The demo holds a received file in memory until it is whole; larger offers are refused. */
export const MAX_FILE_BYTES = 200 * 1024 * 1024

/** What a transfer shows: its name, size and bytes confirmed so far. */
export interface TransferView {
  progress(bytes: number): void
  done(file?: Blob): void
  failed(reason: string): void
}

interface Sender { send(data: Uint8Array): Promise<void> }

interface Incoming {
  name: string
  size: number
  received: number
  reportedAt: number
  chunks: Uint8Array[]
  view: TransferView
}

export class Transfers {
  private readonly outgoing = new Map<number, { view: TransferView, size: number }>()
  private readonly incoming = new Map<string, Incoming>()

  /** Sends `file` to one member; the view follows the receiver's reports. */
  async send (link: Sender, file: File, view: TransferView): Promise<void> {
    const id = crypto.getRandomValues(new Uint32Array(1))[0] ?? 0
    this.outgoing.set(id, { view, size: file.size })
    try {
      await link.send(encode({ kind: 'offer', id, name: file.name, size: file.size }))
      for (let offset = 0; offset < file.size; offset += FILE_CHUNK_BYTES) {
        const data = new Uint8Array(await file.slice(offset, offset + FILE_CHUNK_BYTES).arrayBuffer())
        await link.send(encode({ kind: 'chunk', id, data }))
      }

    } catch (err) {
      this.outgoing.delete(id)
      view.failed(err instanceof Error ? err.message : String(err))
    }
  }

  /**
   * A file message from `from`; `reply` answers it. `newIncoming` is asked for a view
   * when an offer arrives. Returns false for messages that are not about files.
   */
  handle (from: string, message: DemoMessage, reply: Sender, newIncoming: (name: string, size: number) => TransferView): boolean {
    switch (message.kind) {
      case 'offer': {
        const view = newIncoming(message.name, message.size)
        if (message.size > MAX_FILE_BYTES) {
          view.failed(`refused: larger than ${MAX_FILE_BYTES / 2 ** 20} MiB`)
          return true
        }
        const transfer: Incoming = { name: message.name, size: message.size, received: 0, reportedAt: 0, chunks: [], view }
        this.incoming.set(`${from}/${message.id}`, transfer)
        if (message.size === 0) {
          this.finish(from, message.id, transfer, reply)
        }
        return true
      }
      case 'chunk': {
        const transfer = this.incoming.get(`${from}/${message.id}`)
        if (transfer === undefined || transfer.received + message.data.byteLength > transfer.size) {
          return true
        }
        transfer.chunks.push(message.data.slice())
        transfer.received += message.data.byteLength
        transfer.view.progress(transfer.received)
        if (transfer.received === transfer.size) {
          this.finish(from, message.id, transfer, reply)
        } else if (transfer.received - transfer.reportedAt >= PROGRESS_EVERY_BYTES) {
          transfer.reportedAt = transfer.received
          void reply.send(encode({ kind: 'progress', id: message.id, received: transfer.received })).catch(() => {})
        }
        return true
      }
      case 'progress': {
        const outgoing = this.outgoing.get(message.id)
        outgoing?.view.progress(message.received)
        if (outgoing !== undefined && message.received >= outgoing.size) {
          this.outgoing.delete(message.id)
          outgoing.view.done()
        }
        return true
      }
      default:
        return false
    }
  }

  /** The peer left or the link closed: its unfinished transfers fail. */
  abandon (from: string, reason: string): void {
    for (const [key, transfer] of this.incoming) {
      if (key.startsWith(`${from}/`)) {
        transfer.view.failed(reason)
        this.incoming.delete(key)
      }
    }
  }

  private finish (from: string, id: number, transfer: Incoming, reply: Sender): void {
    this.incoming.delete(`${from}/${id}`)
    transfer.view.done(new Blob(transfer.chunks as BlobPart[]))
    void reply.send(encode({ kind: 'progress', id, received: transfer.size })).catch(() => {})
  }
}
