/**
 * What every bench client worker needs, whatever it measures: a failure log that
 * counts each kind once with one example, a bounded pool of operations with a
 * deadline, and the HOP exchange on a lite connection (lite-client.ts). Shared by
 * the relay capacity bench (worker.ts) and the rooms bench (rooms/worker.ts).
 */
// the relay's own build of its Circuit Relay v2 codec and protocol IDs (see tsconfig.json for the path)
import { HopMessage } from '../../dist/serve/pb/circuit.js'
import { HOP_PROTOCOL } from '../../dist/serve/protocols.js'
import { MAX_FAILURE_KINDS } from './constants.js'
import { lengthPrefixed, type LiteConnection, type LiteStream } from './lite-client.js'
import type { Failures } from './messages.js'

export class FailureLog {
  private counts: Record<string, number> = {}
  private examples: Record<string, string> = {}

  add (kind: string, example: string): void {
    const known = kind in this.counts
    const key = known || Object.keys(this.counts).length < MAX_FAILURE_KINDS ? kind : 'other'
    this.counts[key] = (this.counts[key] ?? 0) + 1
    this.examples[key] ??= example.slice(0, 300)
  }

  /** What was logged since the last take, and a fresh log. */
  take (): Failures {
    const taken = { counts: this.counts, examples: this.examples }
    this.counts = {}
    this.examples = {}
    return taken
  }
}

export function errorText (err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}

/** A failure's kind: the error's class, or its message (without numbers and peer IDs) when the class says nothing. */
export function failureKind (stage: string, err: unknown, signal: AbortSignal): string {
  if (signal.aborted) {
    return `${stage}: timeout`
  }
  if (err instanceof Error) {
    const detail = err.name !== 'Error' ? err.name : err.message.replace(/12D3Koo\w+|\d+/g, '#').slice(0, 60)
    return `${stage}: ${detail}`
  }
  return `${stage}: ${String(err)}`
}

/** `/ip4/127.0.0.1/tcp/PORT/ws/p2p/ID` -> `ws://127.0.0.1:PORT` */
export function wsUrl (multiaddr: string): string {
  const match = /^\/ip4\/([\d.]+)\/tcp\/(\d+)\/ws(\/|$)/.exec(multiaddr)
  if (match === null) {
    throw new Error(`not a /ip4/.../tcp/.../ws address: ${multiaddr}`)
  }
  return `ws://${match[1] ?? ''}:${match[2] ?? ''}`
}

/** Runs `task(i)` for i in [0, count), `concurrency` at once; none starts after `deadline`. Returns how many never started. */
export async function pool (count: number, concurrency: number, deadline: number, task: (index: number) => Promise<void>): Promise<number> {
  let next = 0
  let skipped = 0
  const lane = async (): Promise<void> => {
    while (next < count) {
      const index = next++
      if (performance.now() > deadline) {
        skipped++
        continue
      }
      await task(index)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane))
  return skipped
}

/** A HOP answer's status for the failure log: its name, e.g. RESERVATION_REFUSED. */
export function statusName (reply: HopMessage): string {
  return reply.status ?? 'no status'
}

/** One HOP exchange on a new stream: the relay's answer. */
export async function hop (connection: LiteConnection, request: HopMessage, signal: AbortSignal): Promise<{ reply: HopMessage, stream: LiteStream }> {
  const stream = await connection.openStream(HOP_PROTOCOL, signal)
  stream.writeAll(lengthPrefixed(HopMessage.encode(request)))
  return { reply: HopMessage.decode(await stream.readMessage(signal)), stream }
}
