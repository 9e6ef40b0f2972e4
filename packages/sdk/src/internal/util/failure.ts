/**
 * A readable reason. In browsers @libp2p/websockets rejects a failed dial with the
 * WebSocket's `error` Event, which has no message of its own.
 */
export function describeFailure (err: unknown): string {
  if (err instanceof Error) {
    return err.message
  }
  if (typeof Event !== 'undefined' && err instanceof Event) {
    return `could not connect (WebSocket ${err.type})`
  }
  return String(err)
}
