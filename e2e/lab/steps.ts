/**
 * Steps several tests share, written once so each test reads as its scenario.
 */
import { isDeepStrictEqual } from 'node:util'
import { expect } from '@playwright/test'
import type { HarnessPage, Outcome } from './harness-client.js'

/** Deadline for a connect() over the relay in the lab (the SDK's own default is 15 s). */
export const CONNECT_TIMEOUT_MS = 15_000
/** Deadline for reaching the direct path; a dial takes well under a second here. */
export const DIRECT_TIMEOUT_MS = 15_000

/** Fails with the page's error code and message when `outcome` is not ok. */
export function expectOk (outcome: Outcome, what: string): void {
  expect(outcome.ok ? 'ok' : `${outcome.code ?? 'no code'}: ${outcome.message}`, what).toBe('ok')
}

/** Start both peers on the relay, wait until both are online; returns [idA, idB]. */
export async function startBoth (relay: string, a: HarnessPage, b: HarnessPage): Promise<[string, string]> {
  return Promise.all([a.start([relay]), b.start([relay])])
}

/** A opens a link to B; the first message from each side arrives at the other. */
export async function linkAndGreet (a: HarnessPage, b: HarnessPage): Promise<void> {
  expectOk(await a.connect(b.peerId, CONNECT_TIMEOUT_MS), 'A connects to B')
  expectOk(await a.send(b.peerId, 'hello from A'), 'A sends the first message')
  await expect.poll(() => b.received(a.peerId), { message: 'B receives the first message' }).toEqual(['hello from A'])
  expectOk(await b.send(a.peerId, 'hello from B'), 'B replies')
  await expect.poll(() => a.received(b.peerId), { message: 'A receives the reply' }).toEqual(['hello from B'])
}

/** Both sides of the link report the direct path. */
export async function expectDirect (a: HarnessPage, b: HarnessPage): Promise<void> {
  expectOk(await a.waitForPath(b.peerId, 'direct', DIRECT_TIMEOUT_MS), 'A sees the direct path')
  expectOk(await b.waitForPath(a.peerId, 'direct', DIRECT_TIMEOUT_MS), 'B sees the direct path')
}

/** `from` sends `text`; it arrives at `to` as the latest message. */
export async function expectDelivered (from: HarnessPage, to: HarnessPage, text: string): Promise<void> {
  expectOk(await from.send(to.peerId, text), `${from.name} sends "${text}"`)
  await expect.poll(async () => (await to.received(from.peerId)).at(-1), {
    message: `${to.name} receives "${text}"`
  }).toBe(text)
}

/**
 * Polls `probe` for `durationMs` and fails as soon as it returns anything but `expected`:
 * "stays relayed" is a claim over time, so it is checked over time.
 */
export async function expectHolds<T> (probe: () => Promise<T>, expected: T, durationMs: number, what: string): Promise<void> {
  const started = Date.now()
  let broken: { value: T, afterMs: number } | undefined
  await expect.poll(async () => {
    const value = await probe()
    if (broken === undefined && !isDeepStrictEqual(value, expected)) {
      broken = { value, afterMs: Date.now() - started }
    }
    return broken !== undefined || Date.now() - started >= durationMs
  }, { timeout: durationMs + 10_000, intervals: [250] }).toBe(true)
  expect(broken, `${what} for ${durationMs} ms`).toBeUndefined()
}

/** ["1", "2", ..., String(count)] */
export function numbered (count: number): string[] {
  return Array.from({ length: count }, (_, i) => String(i + 1))
}
