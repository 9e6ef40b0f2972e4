/**
 * Hedging: while the path a link sends on is suspect, what the link has unacknowledged
 * goes out on a second path as well, before the first is declared dead. The receiver
 * drops what it already has (reliable.ts) and acknowledges on the path the copies came
 * in on, so a path that died mid-stream costs the stream a probe and a short silence
 * (HEDGE_PROBE_AFTER_MS + HEDGE_SILENCE_MIN_MS at LAN RTTs), not the ping timeout.
 *
 * A path is suspect when messages wait for their ack, it has been quiet for
 * HEDGE_PROBE_AFTER_MS, and a ping sent since (a probe, or the regular one) has gone
 * unanswered for the silence bound. A receiver that is merely slow to take its messages
 * still answers pings, so it is never suspected; one that stalls for a moment is, and
 * that costs at most HEDGE_MAX_BYTES of copies. The suspicion ends when anything
 * arrives on the suspect path again, or when the link leaves it. When the remote
 * answers the copies on the other path while the suspect stays silent, the remote is
 * not stalled and the path is dead: the link leaves it without waiting for its ping
 * timeout.
 */
import type { Logger } from '@libp2p/interface'
import {
  HEDGE_CHECK_INTERVAL_MS,
  HEDGE_CONFIRM_MS,
  HEDGE_MAX_BYTES,
  HEDGE_PROBE_AFTER_MS,
  HEDGE_SILENCE_MIN_MS,
  HEDGE_SILENCE_RTT_FACTOR
} from '../../constants.js'
import { LifelineError } from '../../errors.js'
import { FrameType } from './frame.js'
import type { PathChannel } from './path-channel.js'
import type { SendBuffer } from './reliable.js'

/** How long a probe may go unanswered before its path is suspect. */
export function hedgeSilenceMs (rttMs: number | undefined): number {
  return Math.max(HEDGE_SILENCE_MIN_MS, Math.ceil((rttMs ?? 0) * HEDGE_SILENCE_RTT_FACTOR))
}

/** What hedging needs from its link: the path in use, and the best other one. */
export interface HedgeComponents {
  buffer: SendBuffer
  log: Logger
  now(): number
  active(): PathChannel | undefined
  spare(): PathChannel | undefined
  /** Close a path found dead (see HEDGE_CONFIRM_MS). */
  condemn(path: PathChannel, err: LifelineError): void
}

export class Hedge {
  private readonly components: HedgeComponents
  /** Where the copies go while the active path is suspect. */
  private target: PathChannel | undefined
  /** The suspect path, and when it became suspect. */
  private suspect: PathChannel | undefined
  private since = 0
  /** When the remote first answered on the target after the suspicion began. */
  private answeredAt: number | undefined
  /** Next message number not yet copied onto the target. */
  private next = 0
  private timer: ReturnType<typeof setInterval> | undefined
  private lastCheckAt = 0

  constructor (components: HedgeComponents) {
    this.components = components
  }

  get hedging (): boolean {
    return this.target !== undefined
  }

  /** Messages wait for their ack: watch the path until none do and no suspicion is open. */
  watch (): void {
    if (this.timer === undefined) {
      this.lastCheckAt = this.components.now()
      this.timer = setInterval(() => { this.check() }, HEDGE_CHECK_INTERVAL_MS)
    }
  }

  /** A message was pushed or acknowledged: keep the copies going while hedging. */
  update (): void {
    if (this.target !== undefined) {
      this.copy()
    }
  }

  /** The first message number `path` still needs when the link starts sending on it. */
  resendFrom (path: PathChannel): number {
    const { buffer } = this.components
    return path === this.target ? Math.max(this.next, buffer.base) : buffer.base
  }

  /** The link changed paths or closed: the suspicion no longer applies. */
  reset (): void {
    this.target = undefined
    this.suspect = undefined
    this.answeredAt = undefined
  }

  stop (): void {
    this.reset()
    clearInterval(this.timer)
    this.timer = undefined
  }

  check (): void {
    const { buffer, log } = this.components
    const now = this.components.now()
    // a tick this late ran after a blocked event loop: what arrived meanwhile is unread
    const late = now - this.lastCheckAt > 2 * HEDGE_CHECK_INTERVAL_MS
    this.lastCheckAt = now
    const active = this.components.active()
    if (this.suspect !== undefined && (this.suspect !== active || this.suspect.receivedAt > this.since)) {
      if (this.suspect === active) {
        log('%s path %s answered again after %d ms; copies stop', active.tier, active.id, Math.round(now - this.since))
      }
      this.reset()
    }
    const oldest = buffer.at(buffer.base)
    if (active === undefined || (oldest === undefined && this.target === undefined)) {
      this.stop()
      return
    }
    if (this.suspect !== undefined && this.target !== undefined) {
      this.judge(this.suspect, this.target, now)
      this.copy()
      return
    }
    if (late || oldest === undefined || now - oldest.sentAt < HEDGE_PROBE_AFTER_MS || now - active.receivedAt < HEDGE_PROBE_AFTER_MS) {
      return
    }
    active.probe()
    const owed = active.owedForMs()
    const silence = hedgeSilenceMs(active.rttMs)
    if (owed === undefined || owed < silence) {
      return
    }
    const target = this.components.spare()
    if (target === undefined) {
      return
    }
    log('%s path %s silent for %d ms with %d messages unacknowledged; copying them on %s path %s',
      active.tier, active.id, Math.round(owed), buffer.count, target.tier, target.id)
    this.suspect = active
    this.since = now
    this.target = target
    this.next = buffer.base
    this.copy()
  }

  /**
   * The remote answers on the target but not on the suspect: it is not stalled, so the
   * suspect's silence is the path's. Past HEDGE_CONFIRM_MS of that the path is dead.
   */
  private judge (suspect: PathChannel, target: PathChannel, now: number): void {
    if (this.answeredAt === undefined && target.receivedAt > this.since) {
      this.answeredAt = target.receivedAt
    }
    if (this.answeredAt !== undefined && now - this.answeredAt > HEDGE_CONFIRM_MS) {
      const silentMs = Math.round(now - suspect.receivedAt)
      this.components.log('%s path %s silent for %d ms while the remote answers on %s path %s; it is dead',
        suspect.tier, suspect.id, silentMs, target.tier, target.id)
      // the link moves to the target first, sending it only what was not copied yet
      this.components.condemn(suspect, new LifelineError('TIMEOUT', `The ${suspect.tier} path went silent (${silentMs} ms) while the remote answered on the ${target.tier} path`))
      this.reset()
    }
  }

  /** Copy unacknowledged messages onto the target, keeping HEDGE_MAX_BYTES in flight there. */
  private copy (): void {
    const { buffer } = this.components
    const target = this.target
    if (target === undefined || target.closed) {
      this.reset()
      return
    }
    this.next = Math.max(this.next, buffer.base)
    let inFlight = 0
    for (let seq = buffer.base; seq < this.next; seq++) {
      inFlight += buffer.at(seq)?.payload.byteLength ?? 0
    }
    for (let entry = buffer.at(this.next); entry !== undefined; entry = buffer.at(this.next)) {
      if (inFlight > 0 && inFlight + entry.payload.byteLength > HEDGE_MAX_BYTES) {
        return
      }
      target.send({ type: FrameType.DATA, seq: entry.seq, payload: entry.payload })
      inFlight += entry.payload.byteLength
      this.next++
    }
  }
}
