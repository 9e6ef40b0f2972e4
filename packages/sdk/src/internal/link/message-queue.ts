/**
 * The async iterator behind `Link.messages()`: holds what arrives until the consumer
 * asks for it, and ends when the link closes or the consumer stops. It holds no more
 * than the link's receive window: the link acknowledges a message only once every
 * queue has handed it over (`Delivery.take()`), so the remote cannot send more while
 * a consumer is slow.
 */
import { Fifo } from '../util/fifo.js'

/** A message shared by the queues it was pushed to, released once all of them handed it over. */
export interface Delivery {
  readonly payload: Uint8Array
  take(): void
}

export class MessageQueue implements AsyncIterableIterator<Uint8Array> {
  private readonly buffered = new Fifo<Delivery>()
  private waiting: PromiseWithResolvers<IteratorResult<Uint8Array>> | undefined
  private ended = false
  private error: Error | undefined
  private readonly onDone: () => void

  constructor (onDone: () => void) {
    this.onDone = onDone
  }

  push (delivery: Delivery): void {
    if (this.ended) {
      delivery.take()
      return
    }
    if (this.waiting !== undefined) {
      delivery.take()
      this.waiting.resolve({ value: delivery.payload, done: false })
      this.waiting = undefined
      return
    }
    this.buffered.push(delivery)
  }

  /**
   * No more messages; what is buffered can still be read. With `err`, the next read
   * after the buffer drains throws it.
   */
  end (err?: Error): void {
    if (this.ended) {
      return
    }
    this.ended = true
    this.error = err
    this.onDone()
    if (this.waiting !== undefined) {
      if (err === undefined) {
        this.waiting.resolve({ value: undefined, done: true })
      } else {
        this.waiting.reject(err)
      }
      this.waiting = undefined
    }
  }

  async next (): Promise<IteratorResult<Uint8Array>> {
    const delivery = this.buffered.shift()
    if (delivery !== undefined) {
      delivery.take()
      return { value: delivery.payload, done: false }
    }
    if (this.ended) {
      if (this.error !== undefined) {
        throw this.error
      }
      return { value: undefined, done: true }
    }
    this.waiting = Promise.withResolvers()
    return this.waiting.promise
  }

  /** The consumer stopped: everything it has not read counts as taken. */
  return (): Promise<IteratorResult<Uint8Array>> {
    this.end()
    for (let delivery = this.buffered.shift(); delivery !== undefined; delivery = this.buffered.shift()) {
      delivery.take()
    }
    return Promise.resolve({ value: undefined, done: true })
  }

  [Symbol.asyncIterator] (): AsyncIterableIterator<Uint8Array> {
    return this
  }
}
