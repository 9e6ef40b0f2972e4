/**
 * One path of a link: the link-protocol stream on one connection (relayed or direct).
 * It frames and unframes, answers and sends pings, measures RTT, and closes itself
 * when the remote stops answering. What the frames mean is the link's business.
 */
import type { Connection, Logger, Stream } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import {
  CONTROL_FRAMES_BURST,
  CONTROL_FRAMES_PER_SECOND,
  MAX_QUEUED_CONTROL_FRAMES,
  LATE_TIMER_MS,
  IDLE_PING_INTERVAL_MS,
  PATH_BUSY_MS,
  PATH_WRITE_BATCH_BYTES,
  PATH_WRITE_STALL_MS,
  PING_INTERVAL_MS,
  PROBE_MIN_INTERVAL_MS,
  WEBRTC_DIRECT_CIRCUIT_WINDOW_BYTES
} from '../../constants.js'
import { isLifelineError, LifelineError } from '../../errors.js'
import type { LinkPath } from '../../types.js'
import { PingTracker } from '../health/ping-tracker.js'
import { deadline } from '../util/abort.js'
import { drained } from '../util/drain.js'
import { Fifo } from '../util/fifo.js'
import { relayLegOf, relayOf } from '../util/parse.js'
import { RateLimit } from '../util/rate-limit.js'
import { encodeFrame, FrameDecoder, FrameType, type Frame } from './frame.js'

/**
 * Frames of which only the newest matters: an ack is cumulative, a pong proves every
 * earlier ping answered, and one ping in the queue measures as well as two. While the
 * stream cannot take more, a newer one replaces the one waiting, so the queue holds
 * at most one of each however fast the remote provokes them.
 */
const COALESCED: ReadonlySet<Frame['type']> = new Set([FrameType.ACK, FrameType.PING, FrameType.PONG])

export interface PathChannelEvents {
  frame(path: PathChannel, frame: Frame): void
  rtt(path: PathChannel, rttMs: number): void
  close(path: PathChannel, err: LifelineError | undefined): void
}

export interface PathChannelInit {
  stream: Stream
  connection: Connection
  maxFrameBytes: number
  events: PathChannelEvents
  log: Logger
  now?: () => number
}

export class PathChannel {
  readonly id: string
  readonly tier: LinkPath
  readonly connection: Connection
  /** Peer ID of the relay a relayed path goes through; undefined on a direct path. */
  readonly relayPeerId: string | undefined
  /** True once the remote's HELLO arrived on this path. */
  ready = false
  closed = false
  private readonly stream: Stream
  private readonly decoder: FrameDecoder
  private readonly tracker = new PingTracker()
  private readonly events: PathChannelEvents
  private readonly log: Logger
  private readonly now: () => number
  private readonly urgent: Array<{ type: Frame['type'], chunks: Uint8Array[] }> = []
  private readonly queue = new Fifo<{ chunks: Uint8Array[], seq: number, bytes: number }>()
  /**
   * Payload bytes this path may have sent and not yet seen acknowledged; Infinity but
   * on a circuit whose relay is reached over WebRTC-Direct (see
   * WEBRTC_DIRECT_CIRCUIT_WINDOW_BYTES). Messages past it wait in `queue`.
   */
  readonly sendWindowBytes: number
  /** DATA frames written and not yet acknowledged, when the window is finite. */
  private readonly inFlight = new Fifo<{ seq: number, bytes: number }>()
  private inFlightBytes = 0
  private pumping = false
  /** Control frames the remote may send (acks aside, which follow the data). */
  private readonly controlFrames: RateLimit
  private readonly pingTimer: ReturnType<typeof setInterval>
  private lastTickAt = -Infinity
  /** When the last ping went out, by the timer or as a probe. */
  private lastPingAt = -Infinity
  /** When data (a message or an ack) last went either way; see PATH_BUSY_MS. */
  private lastDataAt = -Infinity

  constructor (init: PathChannelInit) {
    this.stream = init.stream
    this.connection = init.connection
    this.id = `${init.connection.id}/${init.stream.id}`
    this.tier = init.connection.direct ? 'direct' : 'relayed'
    this.relayPeerId = this.tier === 'relayed' ? relayOf(init.connection.remoteAddr) : undefined
    this.sendWindowBytes = this.tier === 'relayed' && relayLegOf(init.connection.remoteAddr) === 'webrtc-direct'
      ? WEBRTC_DIRECT_CIRCUIT_WINDOW_BYTES
      : Infinity
    this.decoder = new FrameDecoder(init.maxFrameBytes)
    this.events = init.events
    this.log = init.log
    this.now = init.now ?? (() => performance.now())
    this.controlFrames = new RateLimit(CONTROL_FRAMES_PER_SECOND, CONTROL_FRAMES_BURST, this.now())
    // the link pings by itself; libp2p's idle timeout must not close a quiet link
    this.stream.inactivityTimeout = 0
    this.stream.addEventListener('message', this.onMessage)
    this.stream.addEventListener('close', this.onClose)
    this.pingTimer = setInterval(this.onPingTimer, PING_INTERVAL_MS)
    this.onPingTimer()
  }

  get rttMs (): number | undefined {
    return this.tracker.srtt
  }

  /** When anything last arrived on this path (in the channel's clock). */
  get receivedAt (): number {
    return this.tracker.receivedAt
  }

  /**
   * How long this path has owed an answer to a ping sent since anything last arrived;
   * undefined when it owes none. See the link's hedging.
   */
  owedForMs (): number | undefined {
    return this.tracker.owedFor(this.now())
  }

  /**
   * Ping now, unless a ping already went out since anything last arrived or within
   * PROBE_MIN_INTERVAL_MS (the remote counts our pings against its control-frame limit).
   */
  probe (): void {
    const now = this.now()
    if (!this.closed && this.tracker.owedFor(now) === undefined && now - this.lastPingAt >= PROBE_MIN_INTERVAL_MS) {
      this.ping(now)
    }
  }

  private ping (now: number): void {
    this.lastPingAt = now
    this.send({ type: FrameType.PING, nonce: this.tracker.sent(now) })
  }

  /** Queue a frame. Control frames jump ahead of data so pings are not stuck behind bulk. */
  send (frame: Frame): void {
    if (this.closed) {
      return
    }
    const chunks = encodeFrame(frame)
    if (frame.type === FrameType.DATA || frame.type === FrameType.ACK) {
      this.lastDataAt = this.now()
    }
    if (frame.type === FrameType.DATA) {
      // data waiting here is bounded by the link's send buffer, which holds it anyway
      this.queue.push({ chunks, seq: frame.seq, bytes: frame.payload.byteLength })
    } else if (COALESCED.has(frame.type) && this.replaceQueued(frame.type, chunks)) {
      // a newer ack, ping or pong says all the waiting one said
    } else if (this.urgent.length >= MAX_QUEUED_CONTROL_FRAMES) {
      this.log('%s path %s: %d control frames waiting, the remote does not read; closing it', this.tier, this.id, this.urgent.length)
      this.close(new LifelineError('PROTOCOL_ERROR', `The remote does not read the ${this.tier} path: ${this.urgent.length} control frames waiting`))
      return
    } else {
      this.urgent.push({ type: frame.type, chunks })
    }
    void this.pump()
  }

  /** The remote acknowledged every message below `nextExpected`: the window may let more go. */
  acked (nextExpected: number): void {
    if (this.sendWindowBytes === Infinity) {
      return
    }
    let released = false
    for (let head = this.inFlight.peek(); head !== undefined && head.seq < nextExpected; head = this.inFlight.peek()) {
      this.inFlight.shift()
      this.inFlightBytes -= head.bytes
      released = true
    }
    if (released && this.queue.length > 0) {
      void this.pump()
    }
  }

  /** Close the path; `err` says why when it failed. */
  close (err?: LifelineError): void {
    if (this.closed) {
      return
    }
    this.closed = true
    clearInterval(this.pingTimer)
    this.stream.removeEventListener('message', this.onMessage)
    this.stream.removeEventListener('close', this.onClose)
    this.urgent.length = 0
    while (this.queue.shift() !== undefined) {
      // dropped: the link holds every message until it is acknowledged
    }
    if (err === undefined) {
      this.stream.close().catch((closeErr: unknown) => {
        this.log.trace('closing path stream failed - %e', closeErr)
        this.stream.abort(closeErr instanceof Error ? closeErr : new Error(String(closeErr)))
      })
    } else {
      this.stream.abort(err)
    }
    this.events.close(this, err)
  }

  private async pump (): Promise<void> {
    if (this.pumping) {
      return
    }
    this.pumping = true
    try {
      for (let batch = this.nextBatch(); batch !== undefined; batch = this.nextBatch()) {
        const writable = this.stream.send(batch)
        if (!writable) {
          const stall = deadline({}, PATH_WRITE_STALL_MS, `Writing on the ${this.tier} path (the remote reads nothing)`)
          try {
            await drained(this.stream, { signal: stall.signal })
          } catch (err) {
            if (isLifelineError(err, 'TIMEOUT')) {
              this.close(err)
              return
            }
            throw err
          } finally {
            stall.clear()
          }
        }
        if (this.closed) {
          return
        }
      }
    } catch (err) {
      this.close(new LifelineError('LINK_CLOSED', `Path ${this.tier} failed while sending`, { cause: err }))
    } finally {
      this.pumping = false
    }
  }

  /** The frames waiting, in sending order, as one write: frames join it while it is under PATH_WRITE_BATCH_BYTES. */
  private nextBatch (): Uint8ArrayList | undefined {
    const batch = new Uint8ArrayList()
    for (let chunks = this.next(); chunks !== undefined; chunks = batch.byteLength < PATH_WRITE_BATCH_BYTES ? this.next() : undefined) {
      batch.append(...chunks)
    }
    return batch.byteLength > 0 ? batch : undefined
  }

  private next (): Uint8Array[] | undefined {
    const urgent = this.urgent.shift()
    if (urgent !== undefined) {
      return urgent.chunks
    }
    const data = this.queue.peek()
    if (data === undefined) {
      return undefined
    }
    if (this.sendWindowBytes !== Infinity) {
      // one message always goes, more only within the window
      if (this.inFlightBytes > 0 && this.inFlightBytes + data.bytes > this.sendWindowBytes) {
        return undefined
      }
      this.inFlight.push({ seq: data.seq, bytes: data.bytes })
      this.inFlightBytes += data.bytes
    }
    this.queue.shift()
    return data.chunks
  }

  /** Puts `chunks` in the place of a waiting frame of `type`; false if none waits. */
  private replaceQueued (type: Frame['type'], chunks: Uint8Array[]): boolean {
    const waiting = this.urgent.find(entry => entry.type === type)
    if (waiting === undefined) {
      return false
    }
    waiting.chunks = chunks
    return true
  }

  private readonly onMessage = (evt: { data: Uint8Array | Uint8ArrayList }): void => {
    const now = this.now()
    this.tracker.received(now)
    let frames: Frame[]
    try {
      frames = this.decoder.push(evt.data)
    } catch (err) {
      this.close(isLifelineError(err) ? err : new LifelineError('PROTOCOL_ERROR', 'Undecodable link frame', { cause: err }))
      return
    }
    for (const frame of frames) {
      if (this.closed) {
        return
      }
      if (frame.type !== FrameType.DATA && frame.type !== FrameType.ACK && !this.controlFrames.take(now)) {
        this.log('%s path %s: the remote sends control frames faster than %d/s; closing it', this.tier, this.id, CONTROL_FRAMES_PER_SECOND)
        this.close(new LifelineError('PROTOCOL_ERROR', `The remote flooded the ${this.tier} path with control frames (more than ${CONTROL_FRAMES_PER_SECOND}/s)`))
        return
      }
      if (frame.type === FrameType.DATA || frame.type === FrameType.ACK) {
        this.lastDataAt = now
      }
      if (frame.type === FrameType.PING) {
        this.send({ type: FrameType.PONG, nonce: frame.nonce })
      } else if (frame.type === FrameType.PONG) {
        if (this.tracker.pong(frame.nonce, now) !== undefined && this.tracker.srtt !== undefined) {
          this.events.rtt(this, this.tracker.srtt)
        }
      } else {
        this.events.frame(this, frame)
      }
    }
  }

  private readonly onClose = (): void => {
    this.close(new LifelineError('LINK_CLOSED', `The ${this.tier} path closed`))
  }

  private readonly onPingTimer = (): void => {
    const now = this.now()
    const late = now - this.lastTickAt - PING_INTERVAL_MS > LATE_TIMER_MS
    this.lastTickAt = now
    // a tick that comes late ran after a blocked event loop (a GC pause, a long task):
    // what arrived meanwhile has not been read yet, so silence is not judged now
    if (!late && this.tracker.dead(now)) {
      this.log('%s path silent for %d ms, closing it', this.tier, this.tracker.timeoutMs)
      this.close(new LifelineError('TIMEOUT', `The ${this.tier} path stopped answering pings`))
      return
    }
    const interval = now - this.lastDataAt < PATH_BUSY_MS ? PING_INTERVAL_MS : IDLE_PING_INTERVAL_MS
    // a tick may come a little early; the next ping is due at the first tick past it
    if (now - this.lastPingAt >= interval - PING_INTERVAL_MS / 2) {
      this.ping(now)
    }
  }
}
