/**
 * A link to one remote peer: a reliable, ordered message channel that rides on
 * whatever paths exist (relayed circuits, direct WebRTC connections) and moves
 * between them without losing or repeating a message. See docs in the README,
 * "Delivery semantics".
 */
import type { Connection, Logger, Stream } from '@libp2p/interface'
import { TypedEventEmitter } from 'main-event'
import { ACK_DELAY_MS, ACK_EVERY_MESSAGES, FRAME_OVERHEAD_BYTES, HANDSHAKE_TIMEOUT_MS, SEND_BUFFER_MESSAGES } from '../../constants.js'
import { LifelineError } from '../../errors.js'
import type { AbortOptions, Link, LinkEvents, LinkPath, LinkStatus } from '../../types.js'
import { selectPath } from '../health/path-selector.js'
import { abortError, waitFor } from '../util/abort.js'
import { relayOf } from '../util/parse.js'
import { MessageQueue } from './message-queue.js'
import { FrameType, SESSION_ID_BYTES, type Frame } from './frame.js'
import { PathChannel } from './path-channel.js'
import { ReceiveWindow, sameSession, SendBuffer } from './reliable.js'

export interface LinkInit {
  remotePeerId: string
  direction: 'outbound' | 'inbound'
  maxMessageBytes: number
  sendBufferBytes: number
  log: Logger
  /** Open a raw application stream on a connection to the remote. */
  newStream(connection: Connection, protocol: string, options: AbortOptions): Promise<Stream>
  /** Called once when the link has closed, to release what the peer holds for it. */
  onClose(link: LinkImpl): void
  /** Called when the remote reports a direct connection up (see DIRECT_DIAL_STUCK_GRACE_MS). */
  onRemoteDirectUp(link: LinkImpl): void
  /** Called when a path closed, with how many paths remain. */
  onPathLost(tier: LinkPath, remaining: number): void
  /** Called for every frame received, with the connection it came on (proof that its relay forwards). */
  onFrameReceived(connection: Connection): void
}

const encoder = new TextEncoder()

export class LinkImpl extends TypedEventEmitter<LinkEvents> implements Link {
  readonly remotePeerId: string
  readonly direction: 'outbound' | 'inbound'
  closed = false
  /** True once any path has completed its handshake; a link that never did is discarded. */
  established = false
  private readonly init: LinkInit
  private readonly log: Logger
  private readonly session = crypto.getRandomValues(new Uint8Array(SESSION_ID_BYTES))
  private remoteSession: Uint8Array | undefined
  private readonly sendBuffer = new SendBuffer()
  private readonly receiveWindow = new ReceiveWindow(SEND_BUFFER_MESSAGES)
  private readonly paths = new Map<string, PathChannel>()
  private active: PathChannel | undefined
  private lastPath: LinkPath = 'relayed'
  private unacked = 0
  private ackTimer: ReturnType<typeof setTimeout> | undefined
  private readonly changed = new EventTarget()
  private readonly queues = new Set<MessageQueue>()

  constructor (init: LinkInit) {
    super()
    this.init = init
    this.log = init.log
    this.remotePeerId = init.remotePeerId
    this.direction = init.direction
  }

  get path (): LinkPath {
    return this.active?.tier ?? this.lastPath
  }

  get rttMs (): number | undefined {
    return this.active?.rttMs
  }

  /** True when at least one path has finished its handshake. */
  get usable (): boolean {
    return this.active !== undefined
  }

  status (): LinkStatus {
    const status: LinkStatus = {
      peerId: this.remotePeerId,
      path: this.path,
      paths: this.paths.size,
      state: this.closed ? 'closed' : 'open',
      direction: this.direction
    }
    const relay = this.active?.tier === 'relayed' ? relayOf(this.active.connection.remoteAddr) : undefined
    if (relay !== undefined) {
      status.relayPeerId = relay
    }
    if (this.rttMs !== undefined) {
      status.rttMs = this.rttMs
    }
    return status
  }

  hasPathOn (connection: Connection): boolean {
    return [...this.paths.values()].some(p => p.connection.id === connection.id)
  }

  /** Connections the link has paths on, direct ones first. */
  connections (): Connection[] {
    return [...this.paths.values()]
      .sort((a, b) => a.tier === b.tier ? 0 : a.tier === 'direct' ? -1 : 1)
      .map(p => p.connection)
  }

  /** Add a path: a link-protocol stream on a connection to the remote peer. */
  attach (stream: Stream, connection: Connection): void {
    if (this.closed) {
      stream.abort(new LifelineError('LINK_CLOSED', 'Link closed'))
      return
    }
    const path = new PathChannel({
      stream,
      connection,
      maxFrameBytes: this.init.maxMessageBytes + FRAME_OVERHEAD_BYTES,
      log: this.log,
      events: {
        frame: (p, f) => { this.onFrame(p, f) },
        rtt: (p, rtt) => { this.onRtt(p, rtt) },
        close: (p, err) => { this.onPathClose(p, err) }
      }
    })
    this.paths.set(path.id, path)
    this.log('%s path %s attached', path.tier, path.id)
    // a path whose remote never says HELLO is garbage or a stalled peer: it goes, and
    // an inbound link with no other path goes with it (see the peer's onPathLost)
    setTimeout(() => {
      if (!path.ready && this.paths.get(path.id) === path) {
        path.close(new LifelineError('PROTOCOL_ERROR', `No HELLO on the ${path.tier} path within ${HANDSHAKE_TIMEOUT_MS} ms`))
      }
    }, HANDSHAKE_TIMEOUT_MS)
    path.send({
      type: FrameType.HELLO,
      session: this.session,
      base: this.sendBuffer.base,
      peerSession: this.remoteSession ?? new Uint8Array(SESSION_ID_BYTES),
      nextExpected: this.receiveWindow.nextExpected
    })
  }

  /** Resolves once a path has completed its handshake. */
  async ready (options: AbortOptions = {}): Promise<void> {
    await waitFor(this.changed, 'change', () => {
      if (this.closed) {
        throw new LifelineError('LINK_CLOSED', `Link to ${this.remotePeerId} closed`)
      }
      return this.usable
    }, options)
  }

  /** Tell the remote that a direct connection to it is open on this side. */
  reportDirectUp (): void {
    this.active?.send({ type: FrameType.DIRECT_UP })
  }

  async send (data: Uint8Array | string, options: AbortOptions = {}): Promise<void> {
    const payload = typeof data === 'string' ? encoder.encode(data) : data
    if (payload.byteLength > this.init.maxMessageBytes) {
      throw new LifelineError('MESSAGE_TOO_LARGE', `Message of ${payload.byteLength} bytes exceeds maxMessageBytes (${this.init.maxMessageBytes}); use openStream() for bulk data`)
    }
    await waitFor(this.changed, 'change', () => {
      if (this.closed) {
        throw new LifelineError('LINK_CLOSED', `Link to ${this.remotePeerId} is closed`)
      }
      const buffer = this.sendBuffer
      return buffer.count === 0 ||
        (buffer.count < SEND_BUFFER_MESSAGES && buffer.bytes + payload.byteLength <= this.init.sendBufferBytes)
    }, options)
    // copy: the caller may reuse its buffer while the message waits for its ack
    const entry = this.sendBuffer.push(payload.slice())
    this.active?.send({ type: FrameType.DATA, seq: entry.seq, payload: entry.payload })
  }

  messages (options: AbortOptions = {}): AsyncIterableIterator<Uint8Array> {
    const queue = new MessageQueue(() => { this.queues.delete(queue) })
    this.queues.add(queue)
    if (this.closed) {
      queue.end()
    }
    options.signal?.addEventListener('abort', () => { queue.end(abortError(options.signal)) }, { once: true })
    return queue
  }

  [Symbol.asyncIterator] (): AsyncIterator<Uint8Array> {
    return this.messages()
  }

  async waitForPath (path: LinkPath, options: AbortOptions = {}): Promise<void> {
    await waitFor(this.changed, 'change', () => {
      if (this.closed) {
        throw new LifelineError('LINK_CLOSED', `Link to ${this.remotePeerId} closed`)
      }
      return this.usable && this.path === path
    }, options)
  }

  async openStream (protocol: string, options: AbortOptions = {}): Promise<Stream> {
    const connection = this.active?.connection
    if (this.closed || connection === undefined) {
      throw new LifelineError('LINK_CLOSED', `Link to ${this.remotePeerId} has no open path`)
    }
    return this.init.newStream(connection, protocol, options)
  }

  async close (): Promise<void> {
    for (const path of this.paths.values()) {
      path.send({ type: FrameType.CLOSE })
    }
    this.shutdown(undefined)
    await Promise.resolve()
  }

  /** Close without telling the remote (the peer is stopping, or the remote closed). */
  shutdown (err: LifelineError | undefined): void {
    if (this.closed) {
      return
    }
    this.closed = true
    clearTimeout(this.ackTimer)
    for (const path of [...this.paths.values()]) {
      path.close()
    }
    this.paths.clear()
    this.active = undefined
    for (const queue of this.queues) {
      queue.end()
    }
    this.changed.dispatchEvent(new Event('change'))
    this.init.onClose(this)
    this.safeDispatchEvent('close', { detail: err })
  }

  private onFrame (path: PathChannel, frame: Frame): void {
    this.init.onFrameReceived(path.connection)
    switch (frame.type) {
      case FrameType.HELLO:
        this.onHello(path, frame)
        break
      case FrameType.DATA:
        this.onData(path, frame.seq, frame.payload)
        break
      case FrameType.ACK:
        if (this.sendBuffer.ack(frame.nextExpected) > 0) {
          this.changed.dispatchEvent(new Event('change'))
        }
        break
      case FrameType.CLOSE:
        this.log('remote closed the link')
        this.shutdown(undefined)
        break
      case FrameType.DIRECT_UP:
        this.init.onRemoteDirectUp(this)
        break
      default:
        break
    }
  }

  private onHello (path: PathChannel, hello: Extract<Frame, { type: typeof FrameType.HELLO }>): void {
    if (!sameSession(this.remoteSession, hello.session)) {
      // first contact, or the remote restarted: its numbering starts at its base
      if (this.remoteSession !== undefined) {
        this.log('remote link session changed; restarting the receive sequence')
      }
      this.remoteSession = hello.session
      this.receiveWindow.reset(hello.base)
    }
    if (sameSession(this.session, hello.peerSession)) {
      this.sendBuffer.ack(hello.nextExpected)
    }
    path.ready = true
    this.reselect()
  }

  private onData (path: PathChannel, seq: number, payload: Uint8Array): void {
    let ready: Uint8Array[]
    try {
      ready = this.receiveWindow.accept(seq, payload)
    } catch (err) {
      path.close(err instanceof LifelineError ? err : undefined)
      return
    }
    for (const message of ready) {
      this.safeDispatchEvent('message', { detail: message })
      for (const queue of this.queues) {
        queue.push(message)
      }
    }
    this.unacked++
    if (this.unacked >= ACK_EVERY_MESSAGES) {
      this.sendAck()
    } else {
      this.ackTimer ??= setTimeout(() => { this.sendAck() }, ACK_DELAY_MS)
    }
  }

  private sendAck (): void {
    clearTimeout(this.ackTimer)
    this.ackTimer = undefined
    this.unacked = 0
    this.active?.send({ type: FrameType.ACK, nextExpected: this.receiveWindow.nextExpected })
  }

  private onRtt (path: PathChannel, rttMs: number): void {
    if (path === this.active) {
      this.safeDispatchEvent('rtt', { detail: rttMs })
    }
    this.reselect()
  }

  private onPathClose (path: PathChannel, err: LifelineError | undefined): void {
    if (!this.paths.delete(path.id)) {
      return
    }
    this.log('%s path %s closed%s', path.tier, path.id, err === undefined ? '' : ` - ${err.message}`)
    if (this.closed) {
      return
    }
    if (path === this.active) {
      this.active = undefined
    }
    this.reselect()
    this.init.onPathLost(path.tier, this.paths.size)
  }

  /** Choose the path to send on; on a change, everything unacknowledged goes out again on the new path. */
  private reselect (): void {
    const candidates = [...this.paths.values()].filter(p => p.ready && !p.closed)
    const chosen = selectPath(candidates.map(p => ({ id: p.id, tier: p.tier, rttMs: p.rttMs })), this.active?.id)
    const next = chosen === undefined ? undefined : this.paths.get(chosen.id)
    if (next === this.active) {
      return
    }
    const previous = this.path
    this.active = next
    if (next === undefined) {
      this.changed.dispatchEvent(new Event('change'))
      return
    }
    for (const entry of this.sendBuffer.unacked()) {
      next.send({ type: FrameType.DATA, seq: entry.seq, payload: entry.payload })
    }
    this.sendAck()
    this.lastPath = next.tier
    this.established = true
    this.log('sending on %s path %s', next.tier, next.id)
    this.changed.dispatchEvent(new Event('change'))
    if (previous !== next.tier) {
      this.safeDispatchEvent('pathchange', { detail: { path: next.tier, previous } })
    }
  }
}
