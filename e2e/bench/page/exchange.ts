/**
 * What a bench page does besides measuring: read the clock, meet the other page
 * through the bench server's mailbox, and report to the runner.
 */
import type { ErrorReport, FaultDone, FaultKind, FaultRequest, ResultReport } from '../shared.js'

/**
 * Milliseconds since the epoch at sub-millisecond resolution. Both browsers run on one
 * host, so a time taken in one page can be subtracted from a time taken in the other.
 */
export function now (): number {
  return performance.timeOrigin + performance.now()
}

export async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => { setTimeout(resolve, ms) })
}

async function expectOk (response: Response, what: string): Promise<Response> {
  if (!response.ok) {
    throw new Error(`${what}: HTTP ${response.status} ${await response.text()}`)
  }
  return response
}

/** The session's write-once keys on the bench server; a read waits for its key. */
export class Mailbox {
  constructor (private readonly session: string) {}

  async put (key: string, value: string | number): Promise<void> {
    await expectOk(await fetch(this.url(key), { method: 'POST', body: String(value) }), `writing ${key}`)
  }

  async get (key: string): Promise<string> {
    return (await expectOk(await fetch(this.url(key)), `reading ${key}`)).text()
  }

  async getNumber (key: string): Promise<number> {
    const value = Number(await this.get(key))
    if (!Number.isFinite(value)) {
      throw new Error(`${key} is not a number`)
    }
    return value
  }

  private url (key: string): string {
    return `/mailbox/${encodeURIComponent(this.session)}/${encodeURIComponent(key)}`
  }
}

export async function reportResult (session: string, report: ResultReport): Promise<void> {
  await expectOk(await fetch(`/result/${encodeURIComponent(session)}`, {
    method: 'POST', body: JSON.stringify(report)
  }), 'reporting the result')
}

export async function reportError (session: string, report: ErrorReport): Promise<void> {
  await fetch(`/error/${encodeURIComponent(session)}`, { method: 'POST', body: JSON.stringify(report) })
}

/**
 * Asks the runner to break something (see FaultKind) and resolves with its answer, once
 * the fault has taken effect.
 */
export async function requestFault (session: string, mailbox: Mailbox, kind: FaultKind,
  options: Omit<FaultRequest, 'kind'> = {}): Promise<FaultDone> {
  const request: FaultRequest = { kind, ...options }
  await expectOk(await fetch(`/fault/${encodeURIComponent(session)}`, {
    method: 'POST', body: JSON.stringify(request)
  }), 'requesting a fault')
  const done = JSON.parse(await mailbox.get(options.key ?? 'fault')) as FaultDone
  if (done.kind !== kind || !Number.isFinite(done.at)) {
    throw new Error(`the runner answered ${JSON.stringify(done)} to a ${kind} request`)
  }
  return done
}
