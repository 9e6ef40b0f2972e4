/**
 * The lightest libp2p client a relay can tell from a real one: a WebSocket (`ws`),
 * multistream-select for /noise, the Noise handshake (noise.ts), multistream-select
 * for /yamux/1.0.0, and a small Yamux (https://github.com/hashicorp/yamux/blob/master/spec.md):
 * streams with flow control both ways, pings answered, every protocol the relay
 * asks for (identify, ping) declined with "na", except STOP when the client
 * listens for a circuit. A js-libp2p node per client costs about as much CPU per
 * handshake as the relay does; this costs a fraction, so on a 2-core machine the
 * relay, not its clients, sets the pace.
 *
 * Every wait takes an AbortSignal; a closed connection fails every wait on it.
 */
import WebSocket from 'ws'
import { STOP_PROTOCOL } from '../../dist/serve/protocols.js'
import { Handshake, MAX_NOISE_PLAINTEXT, type CipherState, type Identity } from './noise.js'

const MULTISTREAM = '/multistream/1.0.0'
const NOISE = '/noise'
const YAMUX = '/yamux/1.0.0'
const NOT_AVAILABLE = 'na'

const YAMUX_VERSION = 0
const TYPE_DATA = 0
const TYPE_WINDOW_UPDATE = 1
const TYPE_PING = 2
const TYPE_GO_AWAY = 3
const FLAG_SYN = 1
const FLAG_ACK = 2
const FLAG_FIN = 4
const FLAG_RST = 8
const HEADER_BYTES = 12
/** Every Yamux stream starts with this window in each direction (the spec's 256 KiB). */
const INITIAL_WINDOW = 256 * 1024
/**
 * The window this client grants the relay on each stream: js-yamux's largest
 * (maxStreamWindowSize, 16 MiB), which a js-libp2p peer's window grows to while data
 * flows. Granted at once rather than grown, since the client consumes every byte as
 * it arrives; a client that kept to 256 KiB would measure the relay's event-loop
 * latency (256 KiB per turn) instead of its throughput.
 */
const RECEIVE_WINDOW = 16 * 1024 * 1024
/** Consumed bytes handed back to the relay's window in steps of this. */
const WINDOW_TOP_UP = 256 * 1024
/** Data frames this client sends: one fits a Noise message with its header. */
const MAX_DATA_FRAME = MAX_NOISE_PLAINTEXT - HEADER_BYTES
/** Longest multistream-select or HOP/STOP message accepted. */
const MAX_MESSAGE_BYTES = 4096

export class ConnectionClosedError extends Error {
  override name = 'ConnectionClosedError'
}

export class StreamResetError extends Error {
  override name = 'StreamResetError'
}

/** Bytes arriving in pieces, read in exact amounts or varint-prefixed messages. */
class ByteQueue {
  private chunks: Buffer[] = []
  length = 0

  push (chunk: Buffer): void {
    if (chunk.byteLength > 0) {
      this.chunks.push(chunk)
      this.length += chunk.byteLength
    }
  }

  take (count: number): Buffer {
    const first = this.chunks[0]
    if (first !== undefined && first.byteLength >= count) {
      // the common case on the data path: no copy
      if (first.byteLength === count) {
        this.chunks.shift()
      } else {
        this.chunks[0] = first.subarray(count)
      }
      this.length -= count
      return first.subarray(0, count)
    }
    const joined = this.chunks.length === 1 ? this.chunks[0] ?? Buffer.alloc(0) : Buffer.concat(this.chunks)
    const taken = joined.subarray(0, count)
    const rest = joined.subarray(count)
    this.chunks = rest.byteLength > 0 ? [rest] : []
    this.length = rest.byteLength
    return taken
  }

  peek (count: number): Buffer {
    if ((this.chunks[0]?.byteLength ?? 0) < count) {
      this.chunks = [Buffer.concat(this.chunks)]
    }
    return (this.chunks[0] ?? Buffer.alloc(0)).subarray(0, count)
  }

  /** A varint-prefixed message if one is complete: [message, bytes it takes], else undefined. */
  peekMessage (): [Buffer, number] | undefined {
    const head = this.peek(Math.min(this.length, 10))
    let length = 0
    let scale = 1
    for (let i = 0; i < head.byteLength; i++) {
      const byte = head[i] ?? 0
      length += (byte & 0x7f) * scale
      scale *= 0x80
      if (byte < 0x80) {
        if (length > MAX_MESSAGE_BYTES) {
          throw new Error(`message of ${length} bytes`)
        }
        if (this.length < i + 1 + length) {
          return undefined
        }
        return [this.peek(i + 1 + length).subarray(i + 1), i + 1 + length]
      }
    }
    return undefined
  }
}

function varint (value: number): Buffer {
  const out: number[] = []
  let rest = value
  while (rest >= 0x80) {
    out.push((rest & 0x7f) | 0x80)
    rest = Math.floor(rest / 0x80)
  }
  out.push(rest)
  return Buffer.from(out)
}

/** A varint length prefix and the message, as multistream-select and Circuit Relay v2 frame them. */
export function lengthPrefixed (message: Uint8Array): Buffer {
  return Buffer.concat([varint(message.byteLength), message])
}

function multistreamMessage (protocol: string): Buffer {
  return lengthPrefixed(Buffer.from(`${protocol}\n`))
}

/** Something to wait for: resolved by `wake()`, failed by `fail()`. */
class Waiters {
  private list: Array<{ resolve: () => void, reject: (err: Error) => void }> = []

  async wait (signal: AbortSignal): Promise<void> {
    signal.throwIfAborted()
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => { reject(signal.reason instanceof Error ? signal.reason : new Error('aborted')) }
      signal.addEventListener('abort', onAbort, { once: true })
      this.list.push({
        resolve: () => { signal.removeEventListener('abort', onAbort); resolve() },
        reject: (err) => { signal.removeEventListener('abort', onAbort); reject(err) }
      })
    })
  }

  wake (): void {
    const list = this.list
    this.list = []
    for (const waiter of list) {
      waiter.resolve()
    }
  }

  fail (err: Error): void {
    const list = this.list
    this.list = []
    for (const waiter of list) {
      waiter.reject(err)
    }
  }
}

/** One Yamux stream. Before `onData` is set, data is queued for `readMessage`. */
export class LiteStream {
  /** Bytes the relay will still take on this stream. */
  sendWindow = INITIAL_WINDOW
  /** Set once the stream is reset, closed both ways, or its connection is gone. */
  closedWith: Error | undefined
  /** Called with each piece of data once set; queued data is delivered first. */
  onData: ((data: Buffer) => void) | undefined
  /** Called once when the stream ends for any reason, with the reason if it was not a clean close. */
  onClose: ((err: Error | undefined) => void) | undefined
  private readonly incoming = new ByteQueue()
  private readonly readable = new Waiters()
  private readonly windowOpen = new Waiters()
  private unacknowledgedReceived = 0
  private localClosed = false
  private remoteClosed = false
  /** The first frame we send opens (SYN) or accepts (ACK) the stream. */
  private openFlag: number

  constructor (readonly connection: LiteConnection, readonly id: number, outbound: boolean) {
    this.openFlag = outbound ? FLAG_SYN : FLAG_ACK
    // opens (SYN) or accepts (ACK) the stream, with the larger window
    this.frame(TYPE_WINDOW_UPDATE, 0, undefined, RECEIVE_WINDOW - INITIAL_WINDOW)
  }

  get writable (): boolean {
    return !this.localClosed && this.closedWith === undefined
  }

  /** Sends as much of `data` as the window allows now; returns how many bytes went. */
  write (data: Buffer): number {
    if (!this.writable) {
      throw this.closedWith ?? new Error('stream closed for writing')
    }
    let offset = 0
    while (offset < data.byteLength && this.sendWindow > 0) {
      const size = Math.min(data.byteLength - offset, this.sendWindow, MAX_DATA_FRAME)
      this.frame(TYPE_DATA, 0, data.subarray(offset, offset + size))
      this.sendWindow -= size
      offset += size
    }
    return offset
  }

  /** Writes a whole small message, which must fit the window (setup messages always do). */
  writeAll (data: Buffer): void {
    if (this.write(data) !== data.byteLength) {
      throw new Error('setup message larger than the send window')
    }
  }

  async waitForWindow (signal: AbortSignal): Promise<void> {
    while (this.sendWindow === 0 && this.writable) {
      await this.windowOpen.wait(signal)
    }
  }

  /** The next varint-prefixed message (multistream-select, HOP, STOP). */
  async readMessage (signal: AbortSignal): Promise<Buffer> {
    for (;;) {
      const message = this.incoming.peekMessage()
      if (message !== undefined) {
        return this.incoming.take(message[1]).subarray(message[1] - message[0].byteLength)
      }
      if (this.closedWith !== undefined || this.remoteClosed) {
        throw this.closedWith ?? new Error('stream closed before a whole message')
      }
      await this.readable.wait(signal)
    }
  }

  /** From now on data goes to `handler`, starting with whatever is queued. */
  deliverTo (handler: (data: Buffer) => void): void {
    this.onData = handler
    if (this.incoming.length > 0) {
      handler(this.incoming.take(this.incoming.length))
    }
  }

  /** Half-close: no more data from us. */
  closeWrite (): void {
    if (this.writable) {
      this.frame(TYPE_WINDOW_UPDATE, FLAG_FIN)
      this.localClosed = true
      this.maybeGone()
    }
  }

  reset (): void {
    if (this.closedWith === undefined) {
      this.frame(TYPE_WINDOW_UPDATE, FLAG_RST)
      this.end(new StreamResetError('reset locally'))
    }
  }

  /** @internal a frame for this stream arrived */
  received (type: number, flags: number, length: number, payload: Buffer | undefined): void {
    if (type === TYPE_WINDOW_UPDATE) {
      this.sendWindow += length
      this.windowOpen.wake()
    } else if (payload !== undefined && payload.byteLength > 0) {
      this.unacknowledgedReceived += payload.byteLength
      // data is consumed as it arrives, so the window is handed back at once
      if (this.unacknowledgedReceived >= WINDOW_TOP_UP && this.closedWith === undefined) {
        this.frame(TYPE_WINDOW_UPDATE, 0, undefined, this.unacknowledgedReceived)
        this.unacknowledgedReceived = 0
      }
      if (this.onData !== undefined) {
        this.onData(payload)
      } else {
        this.incoming.push(payload)
        this.readable.wake()
      }
    }
    if ((flags & FLAG_RST) !== 0) {
      this.end(new StreamResetError('reset by the relay'))
      return
    }
    if ((flags & FLAG_FIN) !== 0) {
      this.remoteClosed = true
      this.readable.wake()
      this.maybeGone()
    }
  }

  /** @internal the stream is over: its connection closed, or it was reset */
  end (err: Error | undefined): void {
    if (this.closedWith !== undefined) {
      return
    }
    this.closedWith = err ?? new Error('stream closed')
    this.readable.fail(this.closedWith)
    this.windowOpen.fail(this.closedWith)
    this.connection.forget(this.id)
    this.onClose?.(err)
  }

  private maybeGone (): void {
    if (this.localClosed && this.remoteClosed) {
      this.end(undefined)
    }
  }

  private frame (type: number, flags: number, payload?: Buffer, length = payload?.byteLength ?? 0): void {
    this.connection.sendFrame(type, flags | this.openFlag, this.id, length, payload)
    this.openFlag = 0
  }
}

export interface LiteConnectionOptions {
  /** Handles a STOP stream the relay opens (after multistream-select); others are declined. */
  onStop?: (stream: LiteStream) => void
  /**
   * Local address to dial from, e.g. 127.0.0.7: a relay counts its per-source
   * limits per address, so clients spread over loopback addresses are many sources.
   */
  localAddress?: string
}

/** A Noise + Yamux connection to the relay over one WebSocket. */
export class LiteConnection {
  /** Set when the connection is gone, with why. */
  closedWith: Error | undefined
  private readonly ws: WebSocket
  private readonly wire = new ByteQueue()
  private readonly plain = new ByteQueue()
  private readonly arrived = new Waiters()
  private send: CipherState | undefined
  private receive: CipherState | undefined
  private yamux = false
  private readonly streams = new Map<number, LiteStream>()
  private nextStreamId = 1
  private outgoing: Buffer[] = []
  private flushQueued = false

  private constructor (url: string, private readonly options: LiteConnectionOptions) {
    this.ws = new WebSocket(url, { perMessageDeflate: false, ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }) })
    this.ws.binaryType = 'nodebuffer'
    this.ws.on('message', (data: Buffer) => { this.onWire(data) })
    this.ws.on('error', (err) => { this.close(err) })
    this.ws.on('close', () => { this.close(new ConnectionClosedError('the relay closed the connection')) })
  }

  /** Dials `url`, then negotiates Noise and Yamux. */
  static async open (url: string, identity: Identity, signal: AbortSignal, options: LiteConnectionOptions = {}): Promise<LiteConnection> {
    const connection = new LiteConnection(url, options)
    const onAbort = (): void => { connection.close(new Error('dial aborted')) }
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      await connection.opened(signal)
      await connection.handshake(identity, signal)
      return connection
    } catch (err: unknown) {
      connection.close(err instanceof Error ? err : new Error(String(err)))
      throw err
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
  }

  get open (): boolean {
    return this.closedWith === undefined
  }

  /** Opens a stream and negotiates `protocol` on it. */
  async openStream (protocol: string, signal: AbortSignal): Promise<LiteStream> {
    this.throwIfClosed()
    const stream = new LiteStream(this, this.nextStreamId, true)
    this.nextStreamId += 2
    this.streams.set(stream.id, stream)
    stream.writeAll(Buffer.concat([multistreamMessage(MULTISTREAM), multistreamMessage(protocol)]))
    const header = (await stream.readMessage(signal)).toString()
    const answer = (await stream.readMessage(signal)).toString()
    if (header !== `${MULTISTREAM}\n` || answer !== `${protocol}\n`) {
      stream.reset()
      throw new Error(`the relay does not speak ${protocol} (it answered ${JSON.stringify(answer.trim())})`)
    }
    return stream
  }

  close (err: Error = new ConnectionClosedError('closed locally')): void {
    if (this.closedWith !== undefined) {
      return
    }
    this.closedWith = err
    this.arrived.fail(err)
    for (const stream of [...this.streams.values()]) {
      stream.end(err)
    }
    this.ws.terminate()
  }

  /** @internal */
  forget (id: number): void {
    this.streams.delete(id)
  }

  /** @internal queues one Yamux frame; frames queued in one tick go out together */
  sendFrame (type: number, flags: number, id: number, length: number, payload?: Buffer): void {
    if (this.closedWith !== undefined) {
      return
    }
    const header = Buffer.alloc(HEADER_BYTES)
    header.writeUInt8(YAMUX_VERSION, 0)
    header.writeUInt8(type, 1)
    header.writeUInt16BE(flags, 2)
    header.writeUInt32BE(id, 4)
    header.writeUInt32BE(length, 8)
    this.outgoing.push(header)
    if (payload !== undefined) {
      this.outgoing.push(payload)
    }
    if (!this.flushQueued) {
      this.flushQueued = true
      queueMicrotask(() => { this.flush() })
    }
  }

  private throwIfClosed (): void {
    if (this.closedWith !== undefined) {
      throw this.closedWith
    }
  }

  private async opened (signal: AbortSignal): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) {
      return
    }
    await new Promise<void>((resolve, reject) => {
      const onOpen = (): void => { done(); resolve() }
      const onFail = (): void => { done(); reject(this.closedWith ?? new Error('WebSocket failed')) }
      const done = (): void => {
        this.ws.off('open', onOpen)
        this.ws.off('close', onFail)
        signal.removeEventListener('abort', onFail)
      }
      this.ws.once('open', onOpen)
      this.ws.once('close', onFail)
      signal.addEventListener('abort', onFail, { once: true })
    })
  }

  private async handshake (identity: Identity, signal: AbortSignal): Promise<void> {
    this.ws.send(Buffer.concat([multistreamMessage(MULTISTREAM), multistreamMessage(NOISE)]))
    await this.expectMultistream(this.wire, NOISE, signal)

    const noise = new Handshake(identity)
    this.sendNoiseFrame(noise.first())
    const { third, send, receive } = noise.second(await this.readNoiseFrame(signal))
    this.sendNoiseFrame(third)
    this.send = send
    this.receive = receive
    // whatever followed message 2 is already transport data
    this.decryptWire()

    this.sendPlain(Buffer.concat([multistreamMessage(MULTISTREAM), multistreamMessage(YAMUX)]))
    await this.expectMultistream(this.plain, YAMUX, signal)
    this.yamux = true
    this.readFrames()
  }

  private async expectMultistream (queue: ByteQueue, protocol: string, signal: AbortSignal): Promise<void> {
    for (const expected of [MULTISTREAM, protocol]) {
      let message = queue.peekMessage()
      while (message === undefined) {
        await this.arrived.wait(signal)
        message = queue.peekMessage()
      }
      queue.take(message[1])
      if (message[0].toString() !== `${expected}\n`) {
        throw new Error(`multistream-select: expected ${expected}, got ${JSON.stringify(message[0].toString().trim())}`)
      }
    }
  }

  private async readNoiseFrame (signal: AbortSignal): Promise<Buffer> {
    while (this.wire.length < 2 || this.wire.length < 2 + this.wire.peek(2).readUInt16BE(0)) {
      await this.arrived.wait(signal)
    }
    const length = this.wire.take(2).readUInt16BE(0)
    return this.wire.take(length)
  }

  private sendNoiseFrame (message: Buffer): void {
    const prefix = Buffer.alloc(2)
    prefix.writeUInt16BE(message.byteLength, 0)
    this.ws.send(Buffer.concat([prefix, message]))
  }

  /** Encrypts `data` into Noise messages, one WebSocket message each. */
  private sendPlain (data: Buffer): void {
    const send = this.send
    if (send === undefined || this.closedWith !== undefined) {
      return
    }
    for (let offset = 0; offset < data.byteLength; offset += MAX_NOISE_PLAINTEXT) {
      this.sendNoiseFrame(send.encrypt(data.subarray(offset, offset + MAX_NOISE_PLAINTEXT)))
    }
  }

  private flush (): void {
    this.flushQueued = false
    const data = Buffer.concat(this.outgoing)
    this.outgoing = []
    this.sendPlain(data)
  }

  private onWire (data: Buffer): void {
    this.wire.push(data)
    if (this.receive === undefined) {
      this.arrived.wake()
      return
    }
    try {
      this.decryptWire()
      if (this.yamux) {
        this.readFrames()
      } else {
        this.arrived.wake()
      }
    } catch (err: unknown) {
      this.close(err instanceof Error ? err : new Error(String(err)))
    }
  }

  private decryptWire (): void {
    const receive = this.receive
    if (receive === undefined) {
      return
    }
    while (this.wire.length >= 2 && this.wire.length >= 2 + this.wire.peek(2).readUInt16BE(0)) {
      const length = this.wire.take(2).readUInt16BE(0)
      this.plain.push(receive.decrypt(this.wire.take(length)))
    }
  }

  private readFrames (): void {
    while (this.plain.length >= HEADER_BYTES) {
      const header = this.plain.peek(HEADER_BYTES)
      const type = header.readUInt8(1)
      const flags = header.readUInt16BE(2)
      const id = header.readUInt32BE(4)
      const length = header.readUInt32BE(8)
      if (type === TYPE_DATA && this.plain.length < HEADER_BYTES + length) {
        return
      }
      this.plain.take(HEADER_BYTES)
      const payload = type === TYPE_DATA ? this.plain.take(length) : undefined
      if (type === TYPE_PING) {
        if ((flags & FLAG_SYN) !== 0) {
          this.sendFrame(TYPE_PING, FLAG_ACK, 0, length)
        }
      } else if (type === TYPE_GO_AWAY) {
        this.close(new ConnectionClosedError('the relay sent GO_AWAY'))
        return
      } else {
        this.streamFrame(type, flags, id, length, payload)
      }
    }
  }

  private streamFrame (type: number, flags: number, id: number, length: number, payload: Buffer | undefined): void {
    let stream = this.streams.get(id)
    if (stream === undefined) {
      if ((flags & FLAG_SYN) === 0) {
        // a frame for a stream already forgotten (reset, or closed both ways)
        return
      }
      stream = new LiteStream(this, id, false)
      this.streams.set(id, stream)
      void this.accept(stream)
    }
    stream.received(type, flags, length, payload)
  }

  /** The relay opened a stream: STOP is handed to `onStop`, anything else is declined. */
  private async accept (stream: LiteStream): Promise<void> {
    const signal = AbortSignal.timeout(10_000)
    try {
      if ((await stream.readMessage(signal)).toString() !== `${MULTISTREAM}\n`) {
        stream.reset()
        return
      }
      stream.writeAll(multistreamMessage(MULTISTREAM))
      for (;;) {
        const protocol = (await stream.readMessage(signal)).toString().trim()
        if (protocol === STOP_PROTOCOL && this.options.onStop !== undefined) {
          stream.writeAll(multistreamMessage(protocol))
          this.options.onStop(stream)
          return
        }
        // "na": the relay moves on to its next protocol, or gives up and closes the stream
        stream.writeAll(multistreamMessage(NOT_AVAILABLE))
      }
    } catch {
      stream.reset()
    }
  }
}
