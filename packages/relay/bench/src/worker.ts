/**
 * A client worker of `pnpm bench:relay`: one process holding many clients, each a
 * separate peer with its own identity and its own WebSocket connection to the
 * relay. The clients speak libp2p through lite-client.ts: a relay sees the same
 * WebSocket, Noise, Yamux and Circuit Relay v2 exchanges as from a js-libp2p node,
 * at a fraction of a node's CPU. A circuit carries raw bytes, with no second Noise
 * session inside it, so the relay does all the work a real circuit costs it.
 *
 * Driven by the runner over IPC (messages.ts). Every client's failure is counted
 * and reported, never thrown. Exits when told to stop or when the runner goes away.
 */
// Node 20 has no Promise.withResolvers (see src/node-compat.ts)
import 'core-js/actual/promise/with-resolvers.js'
import { setMaxListeners } from 'node:events'
// the relay's own build of its Circuit Relay v2 codec and protocol IDs (see tsconfig.json for the path)
import { HopMessage, Status, StopMessage } from '../../dist/serve/pb/circuit.js'
import { FailureLog, errorText, failureKind, hop, pool, statusName, wsUrl } from './client-tools.js'
import { LiteConnection, lengthPrefixed, type LiteStream } from './lite-client.js'
import { createIdentity, type Identity } from './noise.js'
import type { FromWorker, ToWorker } from './messages.js'

/** A STOP exchange must finish in this; the relay waits as long for its answer. */
const STOP_TIMEOUT_MS = 10_000

interface Client {
  identity: Identity
  connection?: LiteConnection
}

/** A circuit between two of this worker's clients: the dialer's HOP stream and the listener's STOP stream. */
interface Pair {
  listener: Client
  dialer: Client
  /** Settled by the listener's STOP handler. */
  listenerEnd: PromiseWithResolvers<LiteStream>
  ends?: [LiteStream, LiteStream]
}

const failures = new FailureLog()
let relayUrl = ''
let clients: Client[] = []
let pairs: Pair[] = []

function send (message: FromWorker): void {
  process.send?.(message)
}

/** Connects `client` (with `onStop` for a listener) and reserves a slot; true if granted, otherwise the failure is logged. */
async function reserve (client: Client, timeoutMs: number, onStop?: (stream: LiteStream) => void): Promise<boolean> {
  const signal = AbortSignal.timeout(timeoutMs)
  try {
    client.connection = await LiteConnection.open(relayUrl, client.identity, signal, onStop === undefined ? {} : { onStop })
    const { reply, stream } = await hop(client.connection, { type: HopMessage.Type.RESERVE }, signal)
    if (reply.status !== Status.OK) {
      failures.add(`reserve refused: ${statusName(reply)}`, `the relay answered RESERVE with ${statusName(reply)}`)
      client.connection.close()
      return false
    }
    // the relay closes its side after the answer; the reservation lives on with the connection
    stream.closeWrite()
    return true
  } catch (err: unknown) {
    failures.add(failureKind('reserve', err, signal), errorText(err))
    client.connection?.close()
    return false
  }
}

function prepare (message: Extract<ToWorker, { kind: 'prepare' }>): void {
  const started = performance.now()
  relayUrl = wsUrl(message.relay)
  if (message.mode === 'reservations') {
    clients = Array.from({ length: message.nodes }, () => ({ identity: createIdentity() }))
  } else {
    pairs = Array.from({ length: Math.floor(message.nodes / 2) }, () => {
      const pair: Pair = { listener: { identity: createIdentity() }, dialer: { identity: createIdentity() }, listenerEnd: Promise.withResolvers() }
      // settled by the STOP handler; awaited (or not) by the dialer, never unhandled
      pair.listenerEnd.promise.catch(() => {})
      return pair
    })
    clients = pairs.flatMap(pair => [pair.listener, pair.dialer])
  }
  send({ kind: 'prepared', nodes: clients.length, ms: performance.now() - started })
}

/** The listener's half of a circuit: accept the relay's STOP CONNECT; then the stream carries raw bytes. */
async function onStop (pair: Pair, stream: LiteStream): Promise<void> {
  try {
    const request = StopMessage.decode(await stream.readMessage(AbortSignal.timeout(STOP_TIMEOUT_MS)))
    if (request.type !== StopMessage.Type.CONNECT) {
      throw new Error(`STOP message of type ${request.type ?? 'none'}`)
    }
    stream.writeAll(lengthPrefixed(StopMessage.encode({ type: StopMessage.Type.STATUS, status: Status.OK })))
    pair.listenerEnd.resolve(stream)
  } catch (err: unknown) {
    pair.listenerEnd.reject(err)
    stream.reset()
  }
}

async function reserveAll (message: Extract<ToWorker, { kind: 'reserve' }>): Promise<void> {
  const latencies: number[] = []
  let ok = 0
  const skipped = await pool(clients.length, message.concurrency, performance.now() + message.budgetMs, async (i) => {
    const client = clients[i]
    if (client === undefined) {
      return
    }
    const started = performance.now()
    if (await reserve(client, message.timeoutMs)) {
      ok++
      latencies.push(performance.now() - started)
    }
  })
  for (let i = 0; i < skipped; i++) {
    failures.add('not started: phase budget spent', 'the phase budget ran out before this reservation started')
  }
  send({ kind: 'reserved', ok, failures: failures.take(), latenciesMs: latencies })
}

async function openAll (message: Extract<ToWorker, { kind: 'open' }>): Promise<void> {
  const latencies: number[] = []
  let reservations = 0
  let circuits = 0
  const skipped = await pool(pairs.length, message.concurrency, performance.now() + message.budgetMs, async (i) => {
    const pair = pairs[i]
    if (pair === undefined || !await reserve(pair.listener, message.timeoutMs, (stream) => { void onStop(pair, stream) })) {
      return
    }
    reservations++
    const started = performance.now()
    const signal = AbortSignal.timeout(message.timeoutMs)
    try {
      const connection = await LiteConnection.open(relayUrl, pair.dialer.identity, signal)
      pair.dialer.connection = connection
      const { reply, stream } = await hop(connection, { type: HopMessage.Type.CONNECT, peer: { id: pair.listener.identity.peerId, addrs: [] } }, signal)
      if (reply.status !== Status.OK) {
        failures.add(`connect refused: ${statusName(reply)}`, `the relay answered CONNECT with ${statusName(reply)}`)
        stream.reset()
        return
      }
      const listenerEnd = await Promise.race([
        pair.listenerEnd.promise,
        new Promise<never>((_resolve, reject) => { signal.addEventListener('abort', () => { reject(new Error('no STOP stream')) }, { once: true }) })
      ])
      pair.ends = [stream, listenerEnd]
      circuits++
      latencies.push(performance.now() - started)
    } catch (err: unknown) {
      failures.add(failureKind('connect', err, signal), errorText(err))
    }
  })
  for (let i = 0; i < skipped; i++) {
    failures.add('not started: phase budget spent', 'the phase budget ran out before this circuit started')
  }
  send({ kind: 'opened', reservations, circuits, failures: failures.take(), latenciesMs: latencies })
}

/** `signal.aborted`, read afresh (TypeScript would keep what a loop condition told it). */
function hasEnded (signal: AbortSignal): boolean {
  return signal.aborted
}

/**
 * Sends `chunk` on `stream` as fast as the relay's window allows until `signal`
 * aborts, counting each byte sent; yields after each write so every other circuit
 * of this worker, and the timer that ends the window, get their turn.
 */
async function pump (stream: LiteStream, chunk: Buffer, signal: AbortSignal, sent: (bytes: number) => void): Promise<void> {
  while (!signal.aborted && stream.writable) {
    if (stream.sendWindow === 0) {
      try {
        await stream.waitForWindow(signal)
      } catch (err: unknown) {
        // the window closing is the end of the push, not a failure
        if (hasEnded(signal)) {
          return
        }
        throw err
      }
      continue
    }
    sent(stream.write(chunk))
    await new Promise(resolve => setImmediate(resolve))
  }
}

async function pushAll (message: Extract<ToWorker, { kind: 'push' }>): Promise<void> {
  const chunk = Buffer.alloc(message.chunkBytes, 0x5a)
  const window = new AbortController()
  // every circuit waiting for window listens to the one signal
  setMaxListeners(Infinity, window.signal)
  let received = 0
  let sent = 0
  const broken = new Set<Pair>()
  const breaks = (pair: Pair, err: unknown, kind: string): void => {
    if (!window.signal.aborted && !broken.has(pair)) {
      broken.add(pair)
      failures.add(kind, err === undefined ? 'a circuit closed during the push' : errorText(err))
    }
  }
  const pumps: Array<Promise<void>> = []
  for (const pair of pairs) {
    if (pair.ends === undefined) {
      continue
    }
    for (const end of pair.ends) {
      end.onClose = (err) => { breaks(pair, err, `circuit broke: ${err?.name ?? 'closed'}`) }
      end.deliverTo((data) => {
        if (!window.signal.aborted) {
          received += data.byteLength
        }
      })
      pumps.push(pump(end, chunk, window.signal, (bytes) => { sent += bytes }).catch((err: unknown) => { breaks(pair, err, failureKind('push', err, window.signal)) }))
    }
  }
  const ended = new Promise<void>((resolve) => { window.signal.addEventListener('abort', () => { resolve() }, { once: true }) })
  setTimeout(() => { window.abort() }, message.durationMs)
  // every pump may end early (broken circuits): report after the whole window all the same
  await Promise.all([...pumps, ended])
  send({ kind: 'pushed', bytesReceived: received, bytesSent: sent, circuitsBroken: broken.size, failures: failures.take() })
}

function check (): void {
  const connected = clients.filter(client => client.connection?.open === true).length
  send({ kind: 'checked', connected })
}

async function handle (message: ToWorker): Promise<void> {
  switch (message.kind) {
    case 'prepare': prepare(message); break
    case 'reserve': await reserveAll(message); break
    case 'open': await openAll(message); break
    case 'push': await pushAll(message); break
    case 'check': check(); break
    case 'stop':
      // the OS closes every socket at once; closing a thousand one by one measures nothing
      process.exit(0)
  }
}

// One client's error must not end the other thousand: count it instead.
process.on('unhandledRejection', (err) => { failures.add('unhandled rejection in client', errorText(err)) })
process.on('uncaughtException', (err) => { failures.add('uncaught exception in client', errorText(err)) })
// the runner is gone: nothing to report to
process.on('disconnect', () => { process.exit(0) })
process.on('message', (message: ToWorker) => {
  handle(message).catch((err: unknown) => {
    send({ kind: 'fatal', message: errorText(err) })
  })
})
