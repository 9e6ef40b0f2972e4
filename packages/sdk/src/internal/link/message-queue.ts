/**
 * The async iterator behind `Link.messages()`: buffers what arrives until the
 * consumer asks for it, and ends when the link closes or the consumer stops.
 */
export class MessageQueue implements AsyncIterableIterator<Uint8Array> {
  private readonly buffered: Uint8Array[] = []
  private waiting: PromiseWithResolvers<IteratorResult<Uint8Array>> | undefined
  private ended = false
  private error: Error | undefined
  private readonly onDone: () => void

  constructor (onDone: () => void) {
    this.onDone = onDone
  }

  push (message: Uint8Array): void {
    if (this.ended) {
      return
    }
    if (this.waiting !== undefined) {
      this.waiting.resolve({ value: message, done: false })
      this.waiting = undefined
      return
    }
    this.buffered.push(message)
  }

  /** No more messages; with `err`, the next read after the buffer drains throws it. */
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
    const message = this.buffered.shift()
    if (message !== undefined) {
      return { value: message, done: false }
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

  return (): Promise<IteratorResult<Uint8Array>> {
    this.end()
    this.buffered.length = 0
    return Promise.resolve({ value: undefined, done: true })
  }

  [Symbol.asyncIterator] (): AsyncIterableIterator<Uint8Array> {
    return this
  }
}
