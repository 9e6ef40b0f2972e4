/**
 * What the bench runner and its client workers say to each other over the
 * child_process IPC channel (JSON). One command, one answer, in this order:
 * prepare -> prepared, reserve -> reserved | open -> opened, push -> pushed,
 * check -> checked; `stop` ends the worker.
 */

/** Failure kind -> how many, and one example message each. */
export interface Failures {
  counts: Record<string, number>
  examples: Record<string, string>
}

export type ToWorker =
  /** Make `nodes` clients' identities (untimed); for circuits, half listen and half dial. */
  | { kind: 'prepare', relay: string, nodes: number, mode: 'reservations' | 'circuits' }
  /** Every client connects and reserves a slot on the relay, `concurrency` at a time. */
  | { kind: 'reserve', concurrency: number, budgetMs: number, timeoutMs: number }
  /** Every pair: the listener reserves, then the dialer opens a circuit to it. */
  | { kind: 'open', concurrency: number, budgetMs: number, timeoutMs: number }
  /** Every open circuit pushes data both ways for `durationMs`. */
  | { kind: 'push', durationMs: number, chunkBytes: number }
  /** How many clients still have an open connection to the relay. */
  | { kind: 'check' }
  | { kind: 'stop' }

export type FromWorker =
  | { kind: 'prepared', nodes: number, ms: number }
  | { kind: 'reserved', ok: number, failures: Failures, latenciesMs: number[] }
  | { kind: 'opened', reservations: number, circuits: number, failures: Failures, latenciesMs: number[] }
  | { kind: 'pushed', bytesReceived: number, bytesSent: number, circuitsBroken: number, failures: Failures }
  | { kind: 'checked', connected: number }
  /** The worker could not do what it was asked at all (not one client's failure). */
  | { kind: 'fatal', message: string }

export type AnswerKind = Exclude<FromWorker['kind'], 'fatal'>
export type Answer<K extends AnswerKind> = Extract<FromWorker, { kind: K }>
