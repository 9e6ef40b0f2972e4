/**
 * A libp2p MultiaddrConnection over a server-side `ws` socket, with both kinds of
 * backpressure a relay needs: when the peer reads slowly, `send()` reports the
 * socket full once `maxBufferedBytes` are queued (and 'drain' follows when the
 * kernel has taken them), and when the relay cannot keep up, pausing the
 * connection stops reading from the TCP socket instead of queueing in memory.
 */
import { AbstractMultiaddrConnection } from '@libp2p/utils'
import type { AbortOptions } from '@libp2p/interface'
import type { AbstractMultiaddrConnectionInit, SendResult } from '@libp2p/utils'
import type { Socket } from 'node:net'
import type { Uint8ArrayList } from 'uint8arraylist'
import type { WebSocket } from 'ws'

/** Close codes that mean the peer ended the session on purpose (RFC 6455 §7.4.1). */
const CLEAN_CLOSE_CODES: ReadonlySet<number> = new Set([1000, 1001, 1005])

export interface WsConnectionInit extends AbstractMultiaddrConnectionInit {
  socket: WebSocket
  tcp: Socket
  /** Outgoing bytes queued on the socket before `send()` asks the writer to wait. */
  maxBufferedBytes: number
}

class WsConnection extends AbstractMultiaddrConnection {
  private readonly socket: WebSocket
  private readonly maxBufferedBytes: number
  private awaitingDrain = false

  constructor (init: WsConnectionInit) {
    super(init)
    this.socket = init.socket
    this.maxBufferedBytes = init.maxBufferedBytes

    this.socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        // libp2p speaks binary frames only; text is someone else's protocol
        this.abort(new Error('text WebSocket message on a libp2p connection'))
        return
      }
      this.onData(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
    })
    this.socket.once('close', (code: number) => {
      if (CLEAN_CLOSE_CODES.has(code)) {
        this.onTransportClosed()
      } else {
        this.onRemoteReset()
      }
    })
    init.tcp.on('drain', () => {
      if (this.awaitingDrain && this.socket.bufferedAmount < this.maxBufferedBytes) {
        this.awaitingDrain = false
        this.safeDispatchEvent('drain')
      }
    })
  }

  sendData (data: Uint8ArrayList): SendResult {
    for (const buf of data) {
      this.socket.send(buf)
    }
    const canSendMore = this.socket.bufferedAmount < this.maxBufferedBytes
    if (!canSendMore) {
      this.awaitingDrain = true
    }
    return { sentBytes: data.byteLength, canSendMore }
  }

  sendReset (): void {
    this.socket.terminate()
  }

  sendClose (options?: AbortOptions): Promise<void> {
    this.socket.close()
    try {
      options?.signal?.throwIfAborted()
      return Promise.resolve()
    } catch (err: unknown) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)))
    }
  }

  sendPause (): void {
    this.socket.pause()
  }

  sendResume (): void {
    this.socket.resume()
  }
}

export function wsConnection (init: WsConnectionInit): WsConnection {
  return new WsConnection(init)
}
