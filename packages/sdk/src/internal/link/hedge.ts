/**
 * Hedging: while the path a link sends on is suspect, what the link has unacknowledged
 * goes out on a second path as well, before the first is declared dead. The receiver
 * drops what it already has (reliable.ts) and acknowledges on the path the copies came
 * in on, so a path that died mid-stream costs the stream a probe, a short silence and a
 * round trip on the other path (HEDGE_PROBE_AFTER_MS + HEDGE_SILENCE_MIN_MS + RTT at
 * LAN RTTs), not the ping timeout.
 *
 * A path is suspect when messages wait for their ack, it has been quiet for
 * HEDGE_PROBE_AFTER_MS, and a ping sent since (a probe, or the regular one) has gone
 * unanswered for the silence bound. The other path is then probed, and the copies start
 * only once the remote has answered there and, HEDGE_COPY_AFTER_ANSWER_MS later, still
 * not on the suspect: a remote stalled by a long task, or a machine too busy to answer,
 * silences both paths alike and answers on both when it resumes, which costs nothing. A receiver that is
 * merely slow to take its messages still answers pings, so it is never suspected. The
 * suspicion ends when anything arrives on the suspect path again, or when the link
 * leaves it.
 * When the suspect stays silent HEDGE_CONFIRM_MS after the remote answered on the other
 * path, the path is dead: the link leaves it without waiting for its ping timeout. One
 * suspicion copies at most HEDGE_MAX_BYTES; the rest goes once the link has moved.
 *
 * Hedging covers links whose unacknowledged bytes fit one hedge (HEDGE_MAX_BYTES):
 * messages, chat, game state. A bulk transfer has its own data queued ahead of any
 * probe (a data channel buffers up to 2 MiB), so a late answer says little about the
 * path; in the NAT matrix under a CPU hog, hedging one moved a live direct transfer
 * onto the relay. Such a path is judged by its ping timeout, as before.
 */
import type { Logger } from '@libp2p/interface'
import {
  HEDGE_CHECK_INTERVAL_MS,
  HEDGE_CONFIRM_MS,
  HEDGE_COPY_AFTER_ANSWER_MS,
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
  /** The other path, probed while the active one is suspect; the copies go there. */
  private target: PathChannel | undefined
  /** The suspect path, and when it became suspect. */
  private suspect: PathChannel | undefined
  private since = 0
  /** When the remote first answered on the target after the suspicion began: copying starts. */
  private answeredAt: number | undefined
  /** Next message number not yet copied onto the target, and the bytes copied so far. */
  private next = 0
  private copied = 0
  private timer: ReturnType<typeof setInterval> | undefined
  private lastCheckAt = 0

  constructor (components: HedgeComponents) {
    this.components = components
  }

  /** True while copies go out on a second path. */
  get hedging (): boolean {
    return this.answeredAt !== undefined && this.components.now() - this.answeredAt > HEDGE_COPY_AFTER_ANSWER_MS
  }

  /** Messages wait for their ack: watch the path until none do and no suspicion is open. */
  watch (): void {
    if (this.timer === undefined) {
      this.lastCheckAt = this.components.now()
      this.timer = setInterval(() => { this.check() }, HEDGE_CHECK_INTERVAL_MS)
    }
  }

  /** A message was pushed or acknowledged: copy it too while hedging. */
  update (): void {
    if (this.hedging) {
      this.copy()
    }
  }

  /** The first message number `path` still needs when the link starts sending on it. */
  resendFrom (path: PathChannel): number {
    const { buffer } = this.components
    return path === this.target && this.hedging ? Math.max(this.next, buffer.base) : buffer.base
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
        log('%s path %s answered again after %d ms%s', active.tier, active.id, Math.round(now - this.since),
          this.answeredAt === undefined ? '' : '; copies stop')
      }
      this.reset()
    }
    const oldest = buffer.at(buffer.base)
    if (active === undefined || (oldest === undefined && this.suspect === undefined)) {
      this.stop()
      return
    }
    if (this.suspect !== undefined && this.target !== undefined) {
      this.follow(this.suspect, this.target, now)
      return
    }
    if (late || oldest === undefined || now - oldest.sentAt < HEDGE_PROBE_AFTER_MS || now - active.receivedAt < HEDGE_PROBE_AFTER_MS) {
      return
    }
    if (buffer.bytes > HEDGE_MAX_BYTES) {
      // a bulk transfer: its own data may be queued ahead of the probe (a data channel
      // buffers 2 MiB), so silence says little; its path is judged by the ping timeout
      return
    }
    active.probe()
    const owed = active.owedForMs()
    if (owed === undefined || owed < hedgeSilenceMs(active.rttMs)) {
      return
    }
    const target = this.components.spare()
    if (target === undefined) {
      return
    }
    log('%s path %s silent for %d ms with %d messages unacknowledged; probing %s path %s',
      active.tier, active.id, Math.round(owed), buffer.count, target.tier, target.id)
    this.suspect = active
    this.since = now
    this.target = target
    target.probe()
  }

  /**
   * While the suspect stays silent: once the remote answers on the target it is not
   * stalled (a stalled remote, or a GC pause, silences both paths alike), so the copies
   * start; past HEDGE_CONFIRM_MS more of silence on the suspect, the path is dead.
   */
  private follow (suspect: PathChannel, target: PathChannel, now: number): void {
    const { log } = this.components
    if (target.closed) {
      this.reset()
      return
    }
    if (this.answeredAt === undefined) {
      if (target.receivedAt <= this.since) {
        return
      }
      this.answeredAt = target.receivedAt
      this.next = this.components.buffer.base
      this.copied = 0
    }
    if (now - this.answeredAt <= HEDGE_COPY_AFTER_ANSWER_MS) {
      return
    }
    if (now - this.answeredAt > HEDGE_CONFIRM_MS) {
      const silentMs = Math.round(now - suspect.receivedAt)
      log('%s path %s silent for %d ms while the remote answers on %s path %s; it is dead',
        suspect.tier, suspect.id, silentMs, target.tier, target.id)
      // the link moves to the target first, sending it only what was not copied yet
      this.components.condemn(suspect, new LifelineError('TIMEOUT', `The ${suspect.tier} path went silent (${silentMs} ms) while the remote answered on the ${target.tier} path`))
      this.reset()
      return
    }
    this.copy()
  }

  /** Copy unacknowledged messages onto the target, at most HEDGE_MAX_BYTES in one suspicion. */
  private copy (): void {
    const { buffer } = this.components
    const target = this.target
    if (target === undefined || target.closed) {
      this.reset()
      return
    }
    this.next = Math.max(this.next, buffer.base)
    for (let entry = buffer.at(this.next); entry !== undefined; entry = buffer.at(this.next)) {
      if (this.copied > 0 && this.copied + entry.payload.byteLength > HEDGE_MAX_BYTES) {
        return
      }
      if (this.copied === 0) {
        this.components.log('the remote answers on %s path %s, not on the suspect; copying what is unacknowledged there', target.tier, target.id)
      }
      target.send({ type: FrameType.DATA, seq: entry.seq, payload: entry.payload })
      this.copied += entry.payload.byteLength
      this.next++
    }
  }
}
