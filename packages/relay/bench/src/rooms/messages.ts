/**
 * What the rooms bench runner and its workers say to each other over the
 * child_process IPC channel (JSON). One command, one answer, in this order:
 * prepare -> prepared, connect -> connected, join -> joined, check -> checked,
 * probe -> probed; `stop` ends the worker.
 */
import type { Failures } from '../messages.js'

/** One member to be: which room it joins, on which relay, dialling from which local address. */
export interface MemberSpec {
  room: number
  /** Index into the `relays` of `prepare`. */
  relay: number
  source: string
}

/** Latencies in ms, by whether the observer is on the member's relay or another. */
export interface Samples {
  same: number[]
  other: number[]
}

export type ToWorker =
  /** Make each member's identity (untimed). */
  | { kind: 'prepare', relays: string[], members: MemberSpec[], namespace: string, connectIntervalMs: number }
  /** Every member dials its relay and reserves a slot, `concurrency` at a time. */
  | { kind: 'connect', concurrency: number, budgetMs: number, timeoutMs: number }
  /** Every reserved member joins its room; then `settleMs` for the events still on their way. */
  | { kind: 'join', concurrency: number, budgetMs: number, timeoutMs: number, settleMs: number }
  /** Members still connected and joined, and whether each one's view of its room is right. */
  | { kind: 'check' }
  /**
   * `samples` cycles, one at a time: a member closes its JOIN stream, joins again,
   * has its connection killed, and reconnects and joins again (untimed).
   */
  | { kind: 'probe', samples: number, budgetMs: number, eventTimeoutMs: number, timeoutMs: number }
  | { kind: 'stop' }

export type FromWorker =
  | { kind: 'prepared', members: number, ms: number }
  | { kind: 'connected', ok: number, failures: Failures }
  | {
    kind: 'joined'
    ok: number
    failures: Failures
    /** From sending JOIN to reading its own SNAPSHOT. */
    snapshotMs: number[]
    /** From a member's JOIN to each observer already in the room reading its JOINED. */
    visibleMs: Samples
    /** Observers already in the room that never read a member's JOINED by the end of the phase. */
    missed: number
  }
  | {
    kind: 'checked'
    connected: number
    joined: number
    /** Joined members by relay index. */
    joinedPerRelay: number[]
    /** Joined members whose view (SNAPSHOT, then JOINED and LEFT) is exactly their room's joined members. */
    completeViews: number
    /** JOIN streams that ended without the member leaving (cut off, reset, connection lost). */
    lostStreams: number
  }
  | {
    kind: 'probed'
    samples: number
    failures: Failures
    join: Samples
    leaveClose: Samples
    leaveKill: Samples
    /** Observer events not seen within the event timeout, by kind. */
    missed: { join: number, leaveClose: number, leaveKill: number }
  }
  /** The worker could not do what it was asked at all (not one member's failure). */
  | { kind: 'fatal', message: string }

export type AnswerKind = Exclude<FromWorker['kind'], 'fatal'>
export type Answer<K extends AnswerKind> = Extract<FromWorker, { kind: K }>
