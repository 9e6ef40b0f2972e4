import { LifelineError } from '../../errors.js'
import type { AbortOptions } from '../../types.js'

/**
 * The coded error for an aborted signal. The SDK's own deadlines abort with a
 * LifelineError (`TIMEOUT`), which is passed on; any other reason means the caller's
 * signal fired, which is `ABORTED` even when it was the caller's own
 * `AbortSignal.timeout()`: the caller chose that deadline, and the README promises
 * ABORTED for it.
 */
export function abortError (signal: AbortSignal | undefined, what = 'Operation'): LifelineError {
  const reason: unknown = signal?.reason
  if (reason instanceof LifelineError) {
    return reason
  }
  return new LifelineError('ABORTED', `${what} was aborted`, { cause: reason })
}

/** True when `reason` is a deadline passing: the SDK's own, or a caller's `AbortSignal.timeout()`. */
export function isTimeoutReason (reason: unknown): boolean {
  return (reason instanceof LifelineError && reason.code === 'TIMEOUT') ||
    (reason instanceof DOMException && reason.name === 'TimeoutError')
}

export interface Deadline {
  signal: AbortSignal
  /** Release the timer and the listener on the caller's signal. Call in `finally`. */
  clear(): void
}

/**
 * The caller's signal, or a default deadline of `timeoutMs` when the caller gave
 * none. The timeout aborts with a TIMEOUT error.
 */
export function deadline (options: AbortOptions, timeoutMs: number, what: string): Deadline {
  if (options.signal !== undefined) {
    return { signal: options.signal, clear: () => {} }
  }
  const controller = new AbortController()
  const timer = setTimeout(() => {
    controller.abort(new LifelineError('TIMEOUT', `${what} did not finish within ${timeoutMs} ms`))
  }, timeoutMs)
  return { signal: controller.signal, clear: () => { clearTimeout(timer) } }
}

/** A signal that fires when any of `signals` fires, and a `clear()` to detach from them. */
export function anySignal (...signals: AbortSignal[]): Deadline {
  const controller = new AbortController()
  const onAbort = (evt: Event): void => {
    controller.abort((evt.target as AbortSignal).reason)
  }
  const clear = (): void => {
    for (const s of signals) {
      s.removeEventListener('abort', onAbort)
    }
  }
  for (const s of signals) {
    if (s.aborted) {
      controller.abort(s.reason)
      break
    }
    s.addEventListener('abort', onAbort, { once: true })
  }
  return { signal: controller.signal, clear }
}

/**
 * Resolve once `ready()` returns true, re-checking on every `event` from `target`.
 * `ready()` may throw to fail the wait. Listeners are removed however it ends.
 */
export async function waitFor (target: EventTarget, event: string, ready: () => boolean, options: AbortOptions = {}): Promise<void> {
  if (ready()) {
    return
  }
  const { signal } = options
  if (signal?.aborted === true) {
    throw abortError(signal)
  }
  const { promise, resolve, reject } = Promise.withResolvers<undefined>()
  const check = (): void => {
    try {
      if (ready()) {
        resolve(undefined)
      }
    } catch (err) {
      reject(err)
    }
  }
  const onAbort = (): void => { reject(abortError(signal)) }
  target.addEventListener(event, check)
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    await promise
  } finally {
    target.removeEventListener(event, check)
    signal?.removeEventListener('abort', onAbort)
  }
}

/** Settles with `promise`, or rejects when `signal` aborts first (for work that cannot be cancelled, such as a callback). */
export async function abortable<T> (promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) {
    return promise
  }
  signal.throwIfAborted()
  let onAbort: (() => void) | undefined
  try {
    return await new Promise<T>((resolve, reject) => {
      onAbort = () => { reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason))) }
      signal.addEventListener('abort', onAbort, { once: true })
      promise.then(resolve, reject)
    })
  } finally {
    if (onAbort !== undefined) {
      signal.removeEventListener('abort', onAbort)
    }
  }
}
