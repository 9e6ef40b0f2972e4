/**
 * A client worker of `pnpm bench:rooms`: one process holding whole rooms of
 * members (member.ts), each member a separate peer with its own connection to its
 * relay. A room's members are all in one worker, so a member's JOIN and every
 * observer's JOINED are timed on one clock (performance.now()).
 *
 * What is timed: from just before a member's JOIN (or its stream's close, or its
 * connection's end) goes out, to each observer that was in the room at that moment
 * reading the member's JOINED (or LEFT), filed by whether the observer is on the
 * member's relay or another. Driven by the runner over IPC (messages.ts); every
 * member's failure is counted, never thrown. Exits when told to stop or when the
 * runner goes away.
 */
// Node 20 has no Promise.withResolvers (see src/node-compat.ts)
import 'core-js/actual/promise/with-resolvers.js'
import { RoomEvent } from '../../../dist/rooms/pb/rooms.js'
import { FailureLog, errorText, failureKind, pool, wsUrl } from '../client-tools.js'
import { RoomMember, RefusedError, keyOf, memberKey, topicOf, type MemberListener } from './member.js'
import type { FromWorker, Samples, ToWorker } from './messages.js'

/** A member's JOIN or leave that observers are expected to hear of. */
interface Pending {
  kind: 'join' | 'leave'
  member: RoomMember
  /** performance.now() when the JOIN, close or kill went out. */
  sentAt: number
  /** Observers in the room at that moment that have not read the event yet. */
  expected: Set<RoomMember>
  samples: Samples
  /** Resolved when every expected observer read it. */
  done: PromiseWithResolvers<void>
}

const failures = new FailureLog()
let members: RoomMember[] = []
const rooms = new Map<number, RoomMember[]>()
/** By member key: what its observers are waiting to read about it. */
const pendings = new Map<string, Pending>()
let lostStreams = 0
/** Earliest time each relay may be dialled next by this worker, spacing connections (CONNECT_RATE_PER_RELAY). */
const nextDial: number[] = []
let connectIntervalMs = 0

function send (message: FromWorker): void {
  process.send?.(message)
}

function emptySamples (): Samples {
  return { same: [], other: [] }
}

function delay (ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

/** Waits for this worker's next turn to dial `relay`. */
async function dialSlot (relay: number): Promise<void> {
  const now = performance.now()
  const slot = Math.max(now, nextDial[relay] ?? 0)
  nextDial[relay] = slot + connectIntervalMs
  if (slot > now) {
    await delay(slot - now)
  }
}

/** Observers of `member` now: the other members of its room that have their SNAPSHOT. */
function observersOf (member: RoomMember): Set<RoomMember> {
  return new Set((rooms.get(member.spec.room) ?? []).filter(other => other !== member && other.joined))
}

/** Starts waiting for the room to read `member`'s JOINED or LEFT; `sentAt` is now. */
function expect (member: RoomMember, kind: Pending['kind'], samples: Samples): Pending {
  const pending: Pending = { kind, member, sentAt: performance.now(), expected: observersOf(member), samples, done: Promise.withResolvers() }
  pendings.set(member.key, pending)
  if (pending.expected.size === 0) {
    pending.done.resolve()
  }
  return pending
}

/** Files the latency if `observer` was waiting for this event of `key`. */
function observe (observer: RoomMember, key: string, kind: Pending['kind'], at: number): void {
  const pending = pendings.get(key)
  if (pending?.kind !== kind || !pending.expected.delete(observer)) {
    return
  }
  const latency = at - pending.sentAt
  if (observer.spec.relay === pending.member.spec.relay) {
    pending.samples.same.push(latency)
  } else {
    pending.samples.other.push(latency)
  }
  if (pending.expected.size === 0) {
    pending.done.resolve()
  }
}

const listener: MemberListener = {
  onEvent (observer, event, at) {
    if (event.type === RoomEvent.Type.JOINED) {
      for (const member of event.members) {
        const key = memberKey(member)
        if (key !== undefined) {
          observe(observer, key, 'join', at)
        }
      }
    } else if (event.type === RoomEvent.Type.LEFT) {
      observe(observer, keyOf(event.peerId), 'leave', at)
    }
  },
  onStreamLost (member, err) {
    lostStreams++
    failures.add(`JOIN stream lost: ${err?.name ?? 'closed by the relay'}`, err === undefined ? 'the relay closed the JOIN stream' : errorText(err))
    // it will read nothing more: nobody waits for it
    for (const pending of pendings.values()) {
      if (pending.expected.delete(member) && pending.expected.size === 0) {
        pending.done.resolve()
      }
    }
  }
}

/** Waits until every expected observer read `pending`'s event, or `timeoutMs`; returns how many never did. */
async function settle (pending: Pending, timeoutMs: number): Promise<number> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    await Promise.race([pending.done.promise, new Promise<void>(resolve => { timer = setTimeout(resolve, timeoutMs) })])
  } finally {
    clearTimeout(timer)
  }
  if (pendings.get(pending.member.key) === pending) {
    pendings.delete(pending.member.key)
  }
  return pending.expected.size
}

function prepare (message: Extract<ToWorker, { kind: 'prepare' }>): void {
  const started = performance.now()
  const urls = message.relays.map(wsUrl)
  connectIntervalMs = message.connectIntervalMs
  members = message.members.map(spec => {
    const url = urls[spec.relay]
    if (url === undefined) {
      throw new Error(`member of relay ${spec.relay}, but there are ${urls.length} relays`)
    }
    return new RoomMember(spec, url, topicOf(message.namespace, `room-${spec.room}`), listener)
  })
  for (const member of members) {
    const room = rooms.get(member.spec.room) ?? []
    room.push(member)
    rooms.set(member.spec.room, room)
  }
  send({ kind: 'prepared', members: members.length, ms: performance.now() - started })
}

/** Connects and reserves `member`; false (and the failure logged) if it did not work. */
async function connect (member: RoomMember, timeoutMs: number): Promise<boolean> {
  await dialSlot(member.spec.relay)
  const signal = AbortSignal.timeout(timeoutMs)
  try {
    await member.connect(signal)
    return true
  } catch (err: unknown) {
    failures.add(err instanceof RefusedError ? err.kind : failureKind('connect', err, signal), errorText(err))
    return false
  }
}

/** Joins `member` to its room; false (and the failure logged) if it did not get its SNAPSHOT. */
async function join (member: RoomMember, timeoutMs: number, beforeSend?: () => void): Promise<boolean> {
  const signal = AbortSignal.timeout(timeoutMs)
  try {
    await member.join(signal, beforeSend)
    return true
  } catch (err: unknown) {
    failures.add(err instanceof RefusedError ? err.kind : failureKind('join', err, signal), errorText(err))
    return false
  }
}

async function connectAll (message: Extract<ToWorker, { kind: 'connect' }>): Promise<void> {
  let ok = 0
  const skipped = await pool(members.length, message.concurrency, performance.now() + message.budgetMs, async (i) => {
    const member = members[i]
    if (member !== undefined && await connect(member, message.timeoutMs)) {
      ok++
    }
  })
  for (let i = 0; i < skipped; i++) {
    failures.add('not started: phase budget spent', 'the phase budget ran out before this member connected')
  }
  send({ kind: 'connected', ok, failures: failures.take() })
}

async function joinAll (message: Extract<ToWorker, { kind: 'join' }>): Promise<void> {
  let ok = 0
  const snapshotMs: number[] = []
  const visibleMs = emptySamples()
  const started: Pending[] = []
  const skipped = await pool(members.length, message.concurrency, performance.now() + message.budgetMs, async (i) => {
    const member = members[i]
    if (member === undefined || !member.connected) {
      return
    }
    const timed: { pending?: Pending } = {}
    const joined = await join(member, message.timeoutMs, () => {
      timed.pending = expect(member, 'join', visibleMs)
      started.push(timed.pending)
    })
    if (joined && timed.pending !== undefined) {
      ok++
      snapshotMs.push(performance.now() - timed.pending.sentAt)
    }
  })
  for (let i = 0; i < skipped; i++) {
    failures.add('not started: phase budget spent', 'the phase budget ran out before this member joined')
  }
  // JOINED events still on their way (other relays hear of a member through Redis)
  const deadline = performance.now() + message.settleMs
  let missed = 0
  for (const pending of started) {
    missed += await settle(pending, Math.max(0, deadline - performance.now()))
  }
  send({ kind: 'joined', ok, failures: failures.take(), snapshotMs, visibleMs, missed })
}

function check (): void {
  let joined = 0
  let completeViews = 0
  const joinedPerRelay: number[] = []
  for (const room of rooms.values()) {
    const present = new Set(room.filter(member => member.joined).map(member => member.key))
    for (const member of room) {
      if (!member.joined) {
        continue
      }
      joined++
      joinedPerRelay[member.spec.relay] = (joinedPerRelay[member.spec.relay] ?? 0) + 1
      if (member.view.size === present.size && [...present].every(key => member.view.has(key))) {
        completeViews++
      }
    }
  }
  send({ kind: 'checked', connected: members.filter(member => member.connected).length, joined, joinedPerRelay: Array.from({ length: joinedPerRelay.length }, (_, relay) => joinedPerRelay[relay] ?? 0), completeViews, lostStreams })
}

/**
 * Members to probe, one room after another: the first member of each room, then
 * the second of each, and so on, so consecutive cycles are in different rooms.
 */
function probeOrder (): RoomMember[] {
  const order: RoomMember[] = []
  const lists = [...rooms.values()]
  const longest = Math.max(0, ...lists.map(list => list.length))
  for (let i = 0; i < longest; i++) {
    for (const list of lists) {
      const member = list[i]
      if (member !== undefined) {
        order.push(member)
      }
    }
  }
  return order
}

async function probeAll (message: Extract<ToWorker, { kind: 'probe' }>): Promise<void> {
  const joinSamples = emptySamples()
  const leaveClose = emptySamples()
  const leaveKill = emptySamples()
  const missed = { join: 0, leaveClose: 0, leaveKill: 0 }
  const deadline = performance.now() + message.budgetMs
  const order = probeOrder()
  let samples = 0
  for (let i = 0; samples < message.samples && i < order.length * 2 && performance.now() < deadline; i++) {
    const member = order[i % order.length]
    if (member === undefined || !member.joined || observersOf(member).size === 0) {
      continue
    }
    samples++
    // 1. leave by closing the JOIN stream
    let pending = expect(member, 'leave', leaveClose)
    member.leave()
    missed.leaveClose += await settle(pending, message.eventTimeoutMs)
    // 2. join again on a new stream of the same connection
    const timed: { pending?: Pending } = {}
    if (!await join(member, message.timeoutMs, () => { timed.pending = expect(member, 'join', joinSamples) })) {
      continue
    }
    if (timed.pending !== undefined) {
      missed.join += await settle(timed.pending, message.eventTimeoutMs)
    }
    // 3. leave by losing the connection
    pending = expect(member, 'leave', leaveKill)
    member.kill()
    missed.leaveKill += await settle(pending, message.eventTimeoutMs)
    // 4. back in the room for the next cycles (untimed)
    if (await connect(member, message.timeoutMs)) {
      await join(member, message.timeoutMs)
    }
  }
  send({ kind: 'probed', samples, failures: failures.take(), join: joinSamples, leaveClose, leaveKill, missed })
}

async function handle (message: ToWorker): Promise<void> {
  switch (message.kind) {
    case 'prepare': prepare(message); break
    case 'connect': await connectAll(message); break
    case 'join': await joinAll(message); break
    case 'check': check(); break
    case 'probe': await probeAll(message); break
    case 'stop':
      // the OS closes every socket at once; closing a thousand one by one measures nothing
      process.exit(0)
  }
}

// One member's error must not end the others: count it instead.
process.on('unhandledRejection', (err) => { failures.add('unhandled rejection in client', errorText(err)) })
process.on('uncaughtException', (err) => { failures.add('uncaught exception in client', errorText(err)) })
// the runner is gone: nothing to report to
process.on('disconnect', () => { process.exit(0) })
process.on('message', (message: ToWorker) => {
  handle(message).catch((err: unknown) => {
    send({ kind: 'fatal', message: errorText(err) })
  })
})
