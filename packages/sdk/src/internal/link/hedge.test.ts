import { logger } from '@libp2p/logger'
import { describe, expect, it } from 'vitest'
import {
  HEDGE_CHECK_INTERVAL_MS,
  HEDGE_CONFIRM_MS,
  HEDGE_COPY_AFTER_ANSWER_MS,
  HEDGE_MAX_BYTES,
  HEDGE_PROBE_AFTER_MS,
  HEDGE_SILENCE_MIN_MS
} from '../../constants.js'
import type { LifelineError } from '../../errors.js'
import { FrameType, type Frame } from './frame.js'
import { Hedge, hedgeSilenceMs } from './hedge.js'
import type { PathChannel } from './path-channel.js'
import { SendBuffer } from './reliable.js'

/** The parts of a path hedging reads, driven by the test's clock. */
class FakePath {
  closed = false
  receivedAt = 0
  rttMs: number | undefined = 2
  /** When the oldest ping owed since the last arrival went out. */
  owedSince: number | undefined
  readonly sent: number[] = []
  probes = 0

  constructor (readonly id: string, readonly tier: 'direct' | 'relayed', private readonly clock: { now: number }) {}

  /** Pings unless a ping is owed already, as PathChannel.probe() does. */
  probe (): void {
    if (this.owedSince === undefined) {
      this.probes++
      this.owedSince = this.clock.now
    }
  }

  owedForMs (): number | undefined {
    return this.owedSince === undefined ? undefined : this.clock.now - this.owedSince
  }

  receive (): void {
    this.receivedAt = this.clock.now
    this.owedSince = undefined
  }

  send (frame: Frame): void {
    if (frame.type === FrameType.DATA) {
      this.sent.push(frame.seq)
    }
  }
}

function setup (): { clock: { now: number }, buffer: SendBuffer, direct: FakePath, relayed: FakePath, hedge: Hedge, condemned: LifelineError[], tick: (ms: number) => void } {
  const clock = { now: 1000 }
  const buffer = new SendBuffer()
  const direct = new FakePath('d', 'direct', clock)
  const relayed = new FakePath('r', 'relayed', clock)
  const condemned: LifelineError[] = []
  const hedge = new Hedge({
    buffer,
    log: logger('test:hedge'),
    now: () => clock.now,
    active: () => direct as unknown as PathChannel,
    spare: () => relayed as unknown as PathChannel,
    condemn: (path, err) => {
      condemned.push(err)
      ;(path as unknown as FakePath).closed = true
    }
  })
  const tick = (ms: number): void => {
    for (let t = 0; t < ms; t += HEDGE_CHECK_INTERVAL_MS) {
      clock.now += HEDGE_CHECK_INTERVAL_MS
      hedge.check()
    }
  }
  return { clock, buffer, direct, relayed, hedge, condemned, tick }
}

describe('Hedge', () => {
  it('waits for the floor, or four RTTs when they are longer', () => {
    expect(hedgeSilenceMs(undefined)).toBe(HEDGE_SILENCE_MIN_MS)
    expect(hedgeSilenceMs(2)).toBe(HEDGE_SILENCE_MIN_MS)
    expect(hedgeSilenceMs(100)).toBe(400)
  })

  it('probes a quiet path, and copies nothing while the probe is answered (a slow reader)', () => {
    const { clock, buffer, direct, relayed, tick } = setup()
    buffer.push(new Uint8Array(10), clock.now)
    for (let i = 0; i < 20; i++) {
      tick(HEDGE_PROBE_AFTER_MS + HEDGE_CHECK_INTERVAL_MS)
      expect(direct.probes).toBeGreaterThan(0)
      direct.receive()
    }
    expect(relayed.sent).toEqual([])
  })

  it('probes the other path once a probe goes unanswered, and copies once the remote answers there', () => {
    const { clock, buffer, direct, relayed, hedge, tick } = setup()
    const sentAt = clock.now
    buffer.push(new Uint8Array(10), sentAt)
    buffer.push(new Uint8Array(10), sentAt)
    let probedAt: number | undefined
    let otherProbedAt: number | undefined
    while (otherProbedAt === undefined && clock.now < sentAt + 10 * HEDGE_SILENCE_MIN_MS) {
      tick(HEDGE_CHECK_INTERVAL_MS)
      if (direct.probes > 0) {
        probedAt ??= clock.now
      }
      if (relayed.probes > 0) {
        otherProbedAt = clock.now
      }
    }
    // probed once the path was quiet long enough; the other path once the probe was owed the silence bound
    expect(direct.probes).toBe(1)
    expect((probedAt ?? 0) - sentAt).toBeGreaterThanOrEqual(HEDGE_PROBE_AFTER_MS)
    expect((probedAt ?? 0) - sentAt).toBeLessThan(HEDGE_PROBE_AFTER_MS + HEDGE_CHECK_INTERVAL_MS)
    expect((otherProbedAt ?? Infinity) - (probedAt ?? 0)).toBeGreaterThanOrEqual(HEDGE_SILENCE_MIN_MS)
    expect((otherProbedAt ?? Infinity) - (probedAt ?? 0)).toBeLessThan(HEDGE_SILENCE_MIN_MS + HEDGE_CHECK_INTERVAL_MS)
    expect(relayed.sent).toEqual([])
    // the remote's answer on the other path, a round trip later
    clock.now += 5
    relayed.receive()
    tick(HEDGE_COPY_AFTER_ANSWER_MS)
    expect(relayed.sent).toEqual([])
    tick(HEDGE_CHECK_INTERVAL_MS)
    expect(relayed.sent).toEqual([0, 1])
    expect(hedge.hedging).toBe(true)
    buffer.push(new Uint8Array(10), clock.now)
    hedge.update()
    expect(relayed.sent).toEqual([0, 1, 2])
    // the link moving onto the relayed path sends it only what was not copied yet
    expect(hedge.resendFrom(relayed as unknown as PathChannel)).toBe(3)
    expect(hedge.resendFrom(direct as unknown as PathChannel)).toBe(0)
  })

  it('copies nothing while the other path is silent too (a stalled remote or a busy machine)', () => {
    const { clock, buffer, relayed, hedge, condemned, tick } = setup()
    buffer.push(new Uint8Array(10), clock.now)
    tick(HEDGE_PROBE_AFTER_MS + HEDGE_SILENCE_MIN_MS + 3 * HEDGE_CHECK_INTERVAL_MS)
    expect(relayed.probes).toBe(1)
    tick(HEDGE_CONFIRM_MS * 8)
    expect(relayed.sent).toEqual([])
    expect(hedge.hedging).toBe(false)
    expect(condemned).toEqual([])
  })

  it('copies nothing when the suspect path answers soon after the other (a remote resuming from a stall)', () => {
    const { clock, buffer, direct, relayed, hedge, tick } = setup()
    buffer.push(new Uint8Array(10), clock.now)
    tick(HEDGE_PROBE_AFTER_MS + HEDGE_SILENCE_MIN_MS + 3 * HEDGE_CHECK_INTERVAL_MS)
    relayed.receive()
    tick(HEDGE_COPY_AFTER_ANSWER_MS / 2)
    direct.receive()
    tick(HEDGE_COPY_AFTER_ANSWER_MS * 2)
    expect(relayed.sent).toEqual([])
    expect(hedge.hedging).toBe(false)
  })

  it('does not hedge a bulk transfer, whose own data may be queued ahead of the probe', () => {
    const { clock, buffer, direct, relayed, tick } = setup()
    for (let i = 0; i < 5; i++) {
      buffer.push(new Uint8Array(HEDGE_MAX_BYTES / 4), clock.now)
    }
    tick(HEDGE_SILENCE_MIN_MS * 10)
    expect(direct.probes).toBe(0)
    expect(relayed.probes).toBe(0)
    expect(relayed.sent).toEqual([])
  })

  it('copies at most HEDGE_MAX_BYTES in one suspicion', () => {
    const { clock, buffer, relayed, hedge, tick } = setup()
    const size = HEDGE_MAX_BYTES / 4
    for (let i = 0; i < 4; i++) {
      buffer.push(new Uint8Array(size), clock.now)
    }
    tick(HEDGE_PROBE_AFTER_MS + HEDGE_SILENCE_MIN_MS + 3 * HEDGE_CHECK_INTERVAL_MS)
    relayed.receive()
    tick(HEDGE_COPY_AFTER_ANSWER_MS + HEDGE_CHECK_INTERVAL_MS)
    expect(relayed.sent).toEqual([0, 1, 2, 3])
    for (let i = 0; i < 4; i++) {
      buffer.push(new Uint8Array(size), clock.now)
    }
    buffer.ack(2)
    hedge.update()
    expect(relayed.sent).toEqual([0, 1, 2, 3])
  })

  it('stops copying when the suspect path answers again (the remote was only stalled)', () => {
    const { clock, buffer, direct, relayed, hedge, condemned, tick } = setup()
    buffer.push(new Uint8Array(10), clock.now)
    tick(HEDGE_PROBE_AFTER_MS + HEDGE_SILENCE_MIN_MS + 3 * HEDGE_CHECK_INTERVAL_MS)
    relayed.receive()
    tick(HEDGE_COPY_AFTER_ANSWER_MS + HEDGE_CHECK_INTERVAL_MS)
    expect(hedge.hedging).toBe(true)
    direct.receive()
    tick(HEDGE_CHECK_INTERVAL_MS)
    expect(hedge.hedging).toBe(false)
    buffer.push(new Uint8Array(10), clock.now)
    hedge.update()
    expect(relayed.sent).toEqual([0])
    expect(condemned).toEqual([])
  })

  it('calls the suspect path dead once the remote answers on the other path and it stays silent', () => {
    const { clock, buffer, relayed, condemned, tick } = setup()
    buffer.push(new Uint8Array(10), clock.now)
    tick(HEDGE_PROBE_AFTER_MS + HEDGE_SILENCE_MIN_MS + 3 * HEDGE_CHECK_INTERVAL_MS)
    relayed.receive()
    tick(HEDGE_CONFIRM_MS)
    expect(condemned).toEqual([])
    tick(HEDGE_CHECK_INTERVAL_MS * 2)
    expect(condemned.map(err => err.code)).toEqual(['TIMEOUT'])
  })

  it('judges nothing on a tick that comes late (a blocked event loop has unread arrivals)', () => {
    const { clock, buffer, relayed, hedge, tick } = setup()
    buffer.push(new Uint8Array(10), clock.now)
    tick(HEDGE_PROBE_AFTER_MS + HEDGE_CHECK_INTERVAL_MS)
    clock.now += HEDGE_SILENCE_MIN_MS * 4
    hedge.check()
    expect(relayed.probes).toBe(0)
    tick(HEDGE_CHECK_INTERVAL_MS)
    expect(relayed.probes).toBe(1)
  })
})
