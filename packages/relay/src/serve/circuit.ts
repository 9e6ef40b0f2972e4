/**
 * Joins the two halves of a circuit (the source's HOP stream and the destination's
 * STOP stream) with backpressure through the relay: when one side cannot take
 * more, the other side is paused, so Yamux stops granting it window and its
 * sender stops. What a circuit can hold in the relay is therefore bounded by the
 * stream window in each direction (see CIRCUIT_WINDOW_BYTES), whatever the peers
 * do; libp2p's own relay pipes through an unbounded queue instead.
 */
import type { Stream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface CircuitLimits {
  /** Bytes the circuit may carry in both directions together; undefined: unlimited. */
  maxBytes: bigint | undefined
  /** Milliseconds the circuit may stay open; undefined: unlimited. */
  maxDurationMs: number | undefined
}

export interface SpliceEvents {
  /** Bytes moved from one side to the other. */
  onBytes(count: number): void
  /** Called once, when both streams are closed. */
  onClosed(reason: 'done' | 'error' | 'data-limit' | 'duration-limit' | 'shutdown'): void
}

export function splice (source: Stream, destination: Stream, limits: CircuitLimits, signal: AbortSignal, events: SpliceEvents): void {
  let remaining = limits.maxBytes
  let ended: Parameters<SpliceEvents['onClosed']>[0] | undefined
  let closedStreams = 0

  const finish = (reason: Parameters<SpliceEvents['onClosed']>[0], err?: Error): void => {
    if (ended === undefined) {
      ended = reason
    }
    if (err !== undefined) {
      source.abort(err)
      destination.abort(err)
    }
  }

  const timer = limits.maxDurationMs === undefined
    ? undefined
    : setTimeout(() => { finish('duration-limit', new Error('circuit duration limit reached')) }, limits.maxDurationMs)
  const onShutdown = (): void => { finish('shutdown', new Error('relay shutting down')) }

  const forward = (from: Stream, to: Stream): void => {
    // resume() hands buffered data to the message listener before it tells Yamux to
    // grant window again, so a pause asked for inside it must wait until it returns
    let resuming = false
    let pauseAfterResume = false

    from.addEventListener('message', (evt: { data: Uint8Array | Uint8ArrayList }) => {
      const count = evt.data.byteLength
      if (remaining !== undefined) {
        remaining -= BigInt(count)
        if (remaining < 0n) {
          finish('data-limit', new Error('circuit data limit reached'))
          return
        }
      }
      events.onBytes(count)
      try {
        if (!to.send(evt.data)) {
          if (resuming) {
            pauseAfterResume = true
          } else {
            from.pause()
          }
        }
      } catch (err: unknown) {
        finish('error', err instanceof Error ? err : new Error(String(err)))
      }
    })

    // Resume only once the other side has sent everything it was given: resuming on
    // every 'drain' while a backlog waits would add a window to it each time.
    const resumeWhenFlushed = (): void => {
      if (from.readStatus !== 'paused' || to.writeBufferLength > 0 || to.writableNeedsDrain) {
        return
      }
      resuming = true
      try {
        from.resume()
      } finally {
        resuming = false
      }
      if (pauseAfterResume) {
        pauseAfterResume = false
        from.pause()
      }
    }
    to.addEventListener('drain', resumeWhenFlushed)
    to.addEventListener('idle', resumeWhenFlushed)
    // a half-close travels on: the other side's writer is told there is no more
    from.addEventListener('end', () => {
      if (to.writeStatus === 'writable') {
        to.close().catch((err: unknown) => { finish('error', err instanceof Error ? err : new Error(String(err))) })
      }
    })
    from.addEventListener('close', evt => {
      if (evt.error !== undefined) {
        finish('error', evt.error)
      }
      closedStreams++
      if (closedStreams === 2) {
        clearTimeout(timer)
        signal.removeEventListener('abort', onShutdown)
        events.onClosed(ended ?? 'done')
      }
    }, { once: true })
  }

  forward(source, destination)
  forward(destination, source)
  if (signal.aborted) {
    onShutdown()
  } else {
    signal.addEventListener('abort', onShutdown, { once: true })
  }
}
