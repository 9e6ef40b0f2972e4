/**
 * A link to one remote peer: a reliable, ordered message channel that rides on
 * whatever paths exist (relayed circuits, direct WebRTC connections) and moves
 * between them without losing or repeating a message. See docs in the README,
 * "Delivery semantics".
 */
import type { Connection, Logger, Stream } from '@libp2p/interface'
import { TypedEventEmitter, type TypedEventTarget } from 'main-event'
import {
  ACK_DELAY_MS,
  ACK_EVERY_MESSAGES,
  ACK_EVERY_WINDOW_FRACTION,
  FRAME_OVERHEAD_BYTES,
  HANDSHAKE_TIMEOUT_MS,
  NO_PATH_TIMEOUT_MS,
  SEND_BUFFER_MESSAGES
} from '../../constants.js'
import { LifelineError } from '../../errors.js'
import type { AbortOptions, Link, LinkDirection, LinkEvents, LinkPath, LinkStatus } from '../../types.js'
import { selectPath } from '../health/path-selector.js'
import { abortError, waitFor } from '../util/abort.js'
import { MessageQueue, type Delivery } from './message-queue.js'
import { FrameType, SESSION_ID_BYTES, type Frame } from './frame.js'
import { Hedge } from './hedge.js'
import { PathChannel } from './path-channel.js'
import { messageCost, ReceiveWindow, sameSession, SendBuffer, type Arrival } from './reliable.js'

export interface LinkInit {
  remotePeerId: string
  direction: LinkDirection
  maxMessageBytes: number
  sendBufferBytes: number
  /** Bytes held for the application before the remote must wait (see reliable.ts). */
  receiveWindowBytes: number
  log: Logger
  /** Open a raw application stream on a connection to the remote. */
  newStream(connection: Connection, protocol: string, options: AbortOptions): Promise<Stream>
  /** Called once when the link has closed, to release what the peer holds for it. */
  onClose(link: LinkImpl): void
  /**
   * Called once, synchronously, when the first path completes its handshake: before any
   * message is delivered, so whoever learns of the link from it misses none.
   */
  onEstablished(link: LinkImpl): void
  /**
   * Called for every frame received, with the relay of a relayed path (proof that the
   * relay forwards; undefined on a direct path), and whether it is data (a message or
   * an ack) rather than a ping.
   */
  onFrameReceived(relayPeerId: string | undefined, data: boolean): void
  /** Where the link reports happenings on its paths, for the routes that keep them. */
  pathEvents: TypedEventTarget<LinkPathEvents>
}

/** Happenings on a link's paths (internal/routes/ listens for them). */
export interface LinkPathEvents {
  /** A path closed; `remaining` paths are left. */
  'path-lost': CustomEvent<{ tier: LinkPath, remaining: number }>
  /** The remote reports a direct connection up (see DIRECT_DIAL_STUCK_GRACE_MS). */
  'remote-direct-up': CustomEvent<null>
}

const encoder = new TextEncoder()

export class LinkImpl extends TypedEventEmitter<LinkEvents> implements Link {
  readonly remotePeerId: string
  readonly direction: LinkDirection
  closed = false
  /** True once any path has completed its handshake; a link that never did is discarded. */
  established = false
  private readonly init: LinkInit
  private readonly log: Logger
  private readonly session = crypto.getRandomValues(new Uint8Array(SESSION_ID_BYTES))
  private remoteSession: Uint8Array | undefined
  private readonly sendBuffer = new SendBuffer()
  private readonly receiveWindow: ReceiveWindow
  /** The remote's receive window and largest message, from its HELLO; ours until then. */
  private remoteWindow: number
  private remoteMaxMessageBytes: number
  private readonly paths = new Map<string, PathChannel>()
  private active: PathChannel | undefined
  /** The path data last came in on: acks go there too (a hedging remote copies onto it). */
  private dataPath: PathChannel | undefined
  private readonly hedge: Hedge
  private lastPath: LinkPath = 'relayed'
  /** Messages and bytes the application took since the last ack. */
  private unacked = 0
  private unackedBytes = 0
  private ackTimer: ReturnType<typeof setTimeout> | undefined
  private readonly changed = new EventTarget()
  /** Runs while the link has no path at all; see NO_PATH_TIMEOUT_MS. */
  private noPathTimer: ReturnType<typeof setTimeout> | undefined
  private readonly queues = new Set<MessageQueue>()

  constructor (init: LinkInit) {
    super()
    this.init = init
    this.log = init.log
    this.remotePeerId = init.remotePeerId
    this.direction = init.direction
    this.receiveWindow = new ReceiveWindow(init.receiveWindowBytes, SEND_BUFFER_MESSAGES)
    this.remoteWindow = init.receiveWindowBytes
    this.remoteMaxMessageBytes = init.maxMessageBytes
    this.hedge = new Hedge({
      buffer: this.sendBuffer,
      log: this.log,
      now: () => performance.now(),
      active: () => this.active,
      spare: () => this.best(this.active),
      condemn: (path, err) => { path.close(err) }
    })
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
    const relay = this.active?.relayPeerId
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
    clearTimeout(this.noPathTimer)
    this.noPathTimer = undefined
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
      nextExpected: this.receiveWindow.taken,
      window: this.init.receiveWindowBytes,
      maxMessageBytes: this.init.maxMessageBytes
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
      if (payload.byteLength > this.remoteMaxMessageBytes) {
        throw new LifelineError('MESSAGE_TOO_LARGE', `Message of ${payload.byteLength} bytes exceeds what ${this.remotePeerId} accepts (${this.remoteMaxMessageBytes}); use openStream() for bulk data`)
      }
      // one message always goes (both limits admit at least the largest message); more
      // only within our send buffer and the remote's receive window
      const buffer = this.sendBuffer
      return buffer.count === 0 ||
        (buffer.count < SEND_BUFFER_MESSAGES &&
          buffer.bytes + payload.byteLength <= this.init.sendBufferBytes &&
          buffer.cost + messageCost(payload.byteLength) <= this.remoteWindow)
    }, options)
    // copy: the caller may reuse its buffer while the message waits for its ack
    const entry = this.sendBuffer.push(payload.slice(), performance.now())
    this.active?.send({ type: FrameType.DATA, seq: entry.seq, payload: entry.payload })
    this.hedge.update()
    this.hedge.watch()
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
    this.hedge.stop()
    clearTimeout(this.ackTimer)
    clearTimeout(this.noPathTimer)
    for (const path of [...this.paths.values()]) {
      path.close()
    }
    this.paths.clear()
    this.active = undefined
    // what arrived early will never be delivered; a reader the app keeps must not keep it
    this.receiveWindow.reset(0)
    for (const queue of this.queues) {
      queue.end()
    }
    this.changed.dispatchEvent(new Event('change'))
    this.init.onClose(this)
    this.safeDispatchEvent('close', { detail: err })
  }

  private onFrame (path: PathChannel, frame: Frame): void {
    this.init.onFrameReceived(path.relayPeerId, frame.type === FrameType.DATA || frame.type === FrameType.ACK)
    switch (frame.type) {
      case FrameType.HELLO:
        this.onHello(path, frame)
        break
      case FrameType.DATA:
        this.onData(path, frame.seq, frame.payload)
        break
      case FrameType.ACK:
        for (const each of this.paths.values()) {
          each.acked(frame.nextExpected)
        }
        if (this.sendBuffer.ack(frame.nextExpected) > 0) {
          this.hedge.update()
          this.changed.dispatchEvent(new Event('change'))
        }
        break
      case FrameType.CLOSE:
        this.log('remote closed the link')
        this.shutdown(undefined)
        break
      case FrameType.DIRECT_UP:
        this.init.pathEvents.safeDispatchEvent('remote-direct-up')
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
    this.remoteWindow = hello.window
    this.remoteMaxMessageBytes = hello.maxMessageBytes
    if (sameSession(this.session, hello.peerSession)) {
      this.sendBuffer.ack(hello.nextExpected)
    }
    path.ready = true
    this.reselect()
    // waiting senders see the remote's limits
    this.changed.dispatchEvent(new Event('change'))
  }

  private onData (path: PathChannel, seq: number, payload: Uint8Array): void {
    this.dataPath = path
    let arrivals: Arrival[]
    try {
      arrivals = this.receiveWindow.accept(seq, payload)
    } catch (err) {
      // the remote broke flow control: nothing it sends on any path can be trusted
      const reason = err instanceof LifelineError ? err : new LifelineError('PROTOCOL_ERROR', 'Undeliverable message', { cause: err })
      this.log.error('closing the link to %s: %s', this.remotePeerId, reason.message)
      this.shutdown(reason)
      return
    }
    for (const arrival of arrivals) {
      this.deliver(arrival)
    }
  }

  /**
   * Hand a message to the listeners and to every `messages()` queue. It stays held
   * against the receive window, and unacknowledged, until each queue handed it over.
   */
  private deliver (arrival: Arrival): void {
    this.safeDispatchEvent('message', { detail: arrival.payload })
    let readers = this.queues.size
    if (readers === 0) {
      this.taken(arrival)
      return
    }
    const delivery: Delivery = {
      payload: arrival.payload,
      take: () => {
        if (--readers === 0) {
          this.taken(arrival)
        }
      }
    }
    for (const queue of this.queues) {
      queue.push(delivery)
    }
  }

  /** The application took a message: acknowledge it soon, at once if much was taken. */
  private taken (arrival: Arrival): void {
    if (!this.receiveWindow.release(arrival) || this.closed) {
      return
    }
    this.unacked++
    this.unackedBytes += messageCost(arrival.payload.byteLength)
    if (this.unacked >= ACK_EVERY_MESSAGES || this.unackedBytes >= this.init.receiveWindowBytes * ACK_EVERY_WINDOW_FRACTION) {
      this.sendAck()
    } else {
      this.ackTimer ??= setTimeout(() => { this.sendAck() }, ACK_DELAY_MS)
    }
  }

  private sendAck (): void {
    clearTimeout(this.ackTimer)
    this.ackTimer = undefined
    this.unacked = 0
    this.unackedBytes = 0
    const ack: Frame = { type: FrameType.ACK, nextExpected: this.receiveWindow.taken }
    this.active?.send(ack)
    if (this.dataPath !== this.active && this.dataPath?.ready === true && !this.dataPath.closed) {
      this.dataPath.send(ack)
    }
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
    if (path === this.dataPath) {
      this.dataPath = undefined
    }
    this.reselect()
    if (this.paths.size === 0 && this.established) {
      // both sides try to restore it; a remote that cannot be reached this long is gone
      this.noPathTimer ??= setTimeout(() => {
        this.log('no path for %d ms; closing the link', NO_PATH_TIMEOUT_MS)
        this.shutdown(new LifelineError('PEER_UNREACHABLE', `No path to ${this.remotePeerId} for ${NO_PATH_TIMEOUT_MS / 1000} s: the link could not be restored`))
      }, NO_PATH_TIMEOUT_MS)
    }
    this.init.pathEvents.safeDispatchEvent('path-lost', { detail: { tier: path.tier, remaining: this.paths.size } })
  }

  /** Choose the path to send on; on a change, everything unacknowledged goes out again on the new path. */
  private reselect (): void {
    const next = this.best(undefined, this.active)
    if (next === this.active) {
      return
    }
    const previous = this.path
    // what a hedge already copied onto the new path is not sent there again
    const resendFrom = next === undefined ? 0 : this.hedge.resendFrom(next)
    this.hedge.reset()
    this.active = next
    if (next === undefined) {
      this.changed.dispatchEvent(new Event('change'))
      return
    }
    for (const entry of this.sendBuffer.unacked(resendFrom)) {
      next.send({ type: FrameType.DATA, seq: entry.seq, payload: entry.payload })
    }
    this.sendAck()
    this.lastPath = next.tier
    if (!this.established) {
      this.established = true
      this.init.onEstablished(this)
    }
    this.log('sending on %s path %s', next.tier, next.id)
    this.changed.dispatchEvent(new Event('change'))
    if (previous !== next.tier) {
      this.safeDispatchEvent('pathchange', { detail: { path: next.tier, previous } })
    }
  }

  /** The path to send on among the ready ones but `except`, given the one in use. */
  private best (except: PathChannel | undefined, current?: PathChannel): PathChannel | undefined {
    const candidates = [...this.paths.values()].filter(p => p.ready && !p.closed && p !== except)
    const chosen = selectPath(candidates.map(p => ({ id: p.id, tier: p.tier, rttMs: p.rttMs })), current?.id)
    return chosen === undefined ? undefined : this.paths.get(chosen.id)
  }
}
