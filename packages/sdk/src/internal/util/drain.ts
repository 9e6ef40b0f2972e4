/**
 * Waits until a stream that refused a write (`send()` returned false) can take more.
 * `stream.onDrain()` in @libp2p/utils 7.4 cannot be used for this: its promise is
 * made once and never renewed, so after the first drain it resolves at once while the
 * stream still needs draining, and a writer looping on it queues without bound. The
 * 'drain' event is emitted every time.
 */
import type { AbortOptions, MessageStream } from '@libp2p/interface'

/** @throws the signal's reason when it fires first, or the stream's error when it closes */
export async function drained (stream: MessageStream, options: AbortOptions = {}): Promise<void> {
  if (!stream.writableNeedsDrain) {
    return
  }
  const { signal } = options
  signal?.throwIfAborted()
  await new Promise<void>((resolve, reject) => {
    const onDrain = (): void => {
      cleanup()
      resolve()
    }
    const onClose = (evt: Event & { error?: Error }): void => {
      cleanup()
      reject(evt.error ?? new Error('stream closed while waiting for it to drain'))
    }
    const onAbort = (): void => {
      cleanup()
      reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted while waiting for the stream to drain'))
    }
    const cleanup = (): void => {
      stream.removeEventListener('drain', onDrain)
      stream.removeEventListener('close', onClose)
      signal?.removeEventListener('abort', onAbort)
    }
    stream.addEventListener('drain', onDrain)
    stream.addEventListener('close', onClose)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
