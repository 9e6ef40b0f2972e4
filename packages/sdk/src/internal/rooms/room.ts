/**
 * One joined room: a JOIN stream on every relay holding our reservation (one
 * "source" of the room's view each, view.ts), opened as the pool reserves and
 * dropped with its relay. A stream that ends while its relay is still held is
 * opened again after a backoff. Every member record a relay sends is checked again
 * here (records.ts). The room forwards the messages of its members' links
 * (member-links.ts), and with `autoConnect` opens those links (auto-connect.ts).
 */
import type { Connection, Logger, PeerId, Stream } from '@libp2p/interface'
import { TypedEventEmitter } from 'main-event'
import {
  MAX_RELAYS_PER_MEMBER,
  MAX_ROOM_MEMBERS,
  ROOM_REJOIN_BASE_MS,
  ROOM_REJOIN_MAX_MS
} from '../../constants.js'
import { isLifelineError, LifelineError } from '../../errors.js'
import type { AbortOptions, ConnectOptions, Link, Room, RoomEvents, RoomMember, RoomRelayStatus, RoomStatus } from '../../types.js'
import { waitFor } from '../util/abort.js'
import { backoffDelay } from '../util/backoff.js'
import { describeFailure } from '../util/failure.js'
import type { RelayAddress } from '../util/parse.js'
import { AutoConnect } from './auto-connect.js'
import { describeJoinEnd, JoinStream, type JoinEnd } from './join-stream.js'
import { MemberLinks } from './member-links.js'
import type { Member, SignedMember } from './pb/rooms.js'
import { metadataBytes, verifyMembers, type MemberEntry } from './records.js'
import { RoomView, type ViewChange, type ViewMember } from './view.js'

/** A relay holding our reservation, and the connection it is held on. */
export interface HeldRelay {
  relay: RelayAddress
  connection: Connection
}

export interface RoomComponents {
  self: PeerId
  /** This peer's record for the room, signed. */
  sign(fields: { topic: Uint8Array, metadata: Uint8Array, seq: bigint }): Promise<SignedMember>
  /** Relays holding our reservation now, best first. */
  held(): HeldRelay[]
  /** Open a rooms stream on a relay connection. */
  newStream(connection: Connection, signal: AbortSignal): Promise<Stream>
  connect(peerId: string, options: ConnectOptions): Promise<Link>
  link(peerId: string): Link | undefined
  now(): number
  random(): number
  log: Logger
  /** The room was left: forget it. */
  onLeft(room: RoomImpl): void
  /** Its status changed. */
  onChange(): void
}

export interface RoomInit {
  name: string
  topic: Uint8Array
  metadata: Uint8Array
  autoConnect: boolean
}

/** One JOIN stream under way. */
interface Active {
  connection: Connection
  abort: AbortController
  stream?: JoinStream | undefined
}

/** What the room knows of one of our relays. */
interface RelayState {
  relayId: string
  state: RoomRelayStatus['state']
  active?: Active | undefined
  failures: number
  retryAt: number
  lastError?: string | undefined
  /** The last stream ended with the relay's ERROR. */
  refusal?: LifelineError | undefined
}

export class RoomImpl extends TypedEventEmitter<RoomEvents> implements Room {
  readonly name: string
  private readonly topic: Uint8Array
  private readonly components: RoomComponents
  private readonly view: RoomView
  private readonly relays = new Map<string, RelayState>()
  private readonly autoConnect: AutoConnect | undefined
  private readonly links: MemberLinks
  private readonly changed = new EventTarget()
  private metadata: Uint8Array
  private seq = 0n
  private signed: SignedMember | undefined
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private invalidRecords = 0
  private isLeft = false

  constructor (init: RoomInit, components: RoomComponents) {
    super()
    this.name = init.name
    this.topic = init.topic
    this.metadata = init.metadata
    this.components = components
    this.view = new RoomView({ self: components.self.toString(), maxMembers: MAX_ROOM_MEMBERS, maxRelaysPerMember: MAX_RELAYS_PER_MEMBER })
    this.autoConnect = init.autoConnect
      ? new AutoConnect({
        self: components.self.toString(),
        connect: async peerId => components.connect(peerId, {}),
        link: peerId => components.link(peerId),
        isMember: peerId => this.view.member(peerId) !== undefined,
        random: () => components.random(),
        log: components.log
      })
      : undefined
    this.links = new MemberLinks({
      link: peerId => components.link(peerId),
      onMessage: message => { this.safeDispatchEvent('message', { detail: message }) },
      onClose: peerId => { this.autoConnect?.linkClosed(peerId) }
    })
  }

  get left (): boolean {
    return this.isLeft
  }

  /** Sign the first record and join through every held relay. */
  async start (): Promise<void> {
    this.signed = await this.components.sign({ topic: this.topic, metadata: this.metadata, seq: this.nextSeq() })
    this.reconcile()
  }

  /**
   * Resolves once a relay sent its SNAPSHOT.
   *
   * @throws {LifelineError} `ROOM_REFUSED` when every relay we hold refused the JOIN
   */
  async joined (options: AbortOptions): Promise<void> {
    await waitFor(this.changed, 'change', () => {
      if (this.isLeft) {
        throw new LifelineError('ROOM_REFUSED', `Room "${this.name}" was left while joining`)
      }
      const states = [...this.relays.values()]
      if (states.some(r => r.state === 'joined' || r.state === 'partial')) {
        return true
      }
      const refusal = states.find(r => r.refusal !== undefined)?.refusal
      if (refusal !== undefined && states.length > 0 && states.every(r => r.refusal !== undefined && r.active === undefined)) {
        throw refusal
      }
      return false
    }, options)
  }

  members (): RoomMember[] {
    return this.view.members().map(toMember)
  }

  /** Relays where `peerId` is held, from its records in this room. */
  relaysOf (peerId: string): RelayAddress[] {
    return this.view.relaysOf(peerId)
  }

  status (): RoomStatus {
    return {
      name: this.name,
      members: this.view.members().length,
      relays: [...this.relays.values()].map(r => ({
        peerId: r.relayId,
        state: r.state,
        ...(r.lastError === undefined ? {} : { lastError: r.lastError })
      })),
      invalidRecords: this.invalidRecords,
      droppedMembers: this.view.dropped
    }
  }

  async connect (peerId: string, options: ConnectOptions = {}): Promise<Link> {
    return this.components.connect(peerId, options)
  }

  async send (data: Uint8Array | string, options: AbortOptions = {}): Promise<void> {
    const links = this.view.members()
      .map(m => this.components.link(m.peerId))
      .filter((link): link is Link => link !== undefined && !link.closed)
    const results = await Promise.allSettled(links.map(async link => { await link.send(data, options) }))
    for (const result of results) {
      if (result.status === 'rejected' && !isLifelineError(result.reason, 'LINK_CLOSED')) {
        throw result.reason
      }
    }
  }

  async setMetadata (value: Uint8Array | string, options: AbortOptions = {}): Promise<void> {
    const metadata = metadataBytes(value)
    if (this.isLeft) {
      throw new LifelineError('ROOM_REFUSED', `Room "${this.name}" was left: join it again`)
    }
    this.metadata = metadata
    const signed = await this.components.sign({ topic: this.topic, metadata, seq: this.nextSeq() })
    this.signed = signed
    const streams = [...this.relays.values()].map(r => r.active?.stream).filter(s => s !== undefined)
    // a stream that fails here ends, and its relay is joined again with the new record
    await Promise.allSettled(streams.map(async stream => { await stream.send(signed) }))
    options.signal?.throwIfAborted()
  }

  async leave (): Promise<void> {
    if (this.isLeft) {
      return
    }
    this.isLeft = true
    clearTimeout(this.retryTimer)
    for (const relay of this.relays.values()) {
      this.stopActive(relay)
    }
    this.relays.clear()
    this.autoConnect?.stop()
    this.links.forgetAll()
    this.components.onLeft(this)
    this.notify()
    await Promise.resolve()
  }

  /** The pool's reservations changed: join where we hold one, drop where we lost it. */
  reconcile (): void {
    if (this.isLeft || this.signed === undefined) {
      return
    }
    clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    const now = this.components.now()
    const held = new Map(this.components.held().map(h => [h.relay.peerId.toString(), h]))
    // the pool reports every ping: tell listeners only when a stream started or stopped
    let changed = false
    for (const [relayId, relay] of this.relays) {
      const h = held.get(relayId)
      if (h === undefined) {
        this.stopActive(relay)
        this.relays.delete(relayId)
        changed = true
      } else if (relay.active !== undefined && relay.active.connection !== h.connection) {
        // held again on a new connection: the old stream went with the old one
        this.stopActive(relay)
        changed = true
      }
    }
    let nextRetry = Infinity
    for (const [relayId, h] of held) {
      const relay = this.relays.get(relayId) ?? { relayId, state: 'joining', failures: 0, retryAt: 0 }
      this.relays.set(relayId, relay)
      if (relay.active !== undefined) {
        continue
      }
      if (relay.retryAt <= now) {
        this.open(relay, h.connection)
        changed = true
      } else {
        nextRetry = Math.min(nextRetry, relay.retryAt)
      }
    }
    if (nextRetry !== Infinity) {
      this.retryTimer = setTimeout(() => { this.reconcile() }, nextRetry - now)
    }
    if (changed) {
      this.notify()
    }
  }

  /** A link was opened (either way): forward its messages if its peer is a member. */
  linkAdded (link: Link): void {
    if (this.view.member(link.remotePeerId) !== undefined) {
      this.links.listen(link.remotePeerId)
    }
  }

  private open (relay: RelayState, connection: Connection): void {
    const active: Active = { connection, abort: new AbortController() }
    relay.active = active
    relay.state = 'joining'
    const { signal } = active.abort
    void (async (): Promise<JoinEnd> => {
      try {
        const stream = new JoinStream(await this.components.newStream(connection, signal), signal)
        active.stream = stream
        if (this.signed !== undefined) {
          await stream.send(this.signed)
        }
        return await stream.run({
          snapshot: async (members, partial) => {
            const entries = await this.verified(members)
            if (relay.active === active) {
              relay.state = partial ? 'partial' : 'joined'
              relay.failures = 0
              relay.refusal = undefined
              this.apply(this.view.replace(relay.relayId, entries))
              this.notify()
            }
          },
          joined: async members => {
            const entries = await this.verified(members)
            if (relay.active === active) {
              for (const entry of entries) {
                this.apply(this.view.put(relay.relayId, entry))
              }
            }
          },
          left: (peerId, relayId) => {
            if (relay.active === active) {
              this.apply(this.view.remove(relay.relayId, peerId, relayId))
            }
          }
        })
      } catch (err: unknown) {
        return signal.aborted ? { kind: 'aborted' } : { kind: 'closed', detail: describeFailure(err) }
      }
    })().then(end => { this.ended(relay, active, end) })
  }

  private ended (relay: RelayState, active: Active, end: JoinEnd): void {
    if (relay.active !== active) {
      // stopped by us: its view went already
      return
    }
    relay.active = undefined
    this.apply(this.view.drop(relay.relayId))
    relay.failures++
    relay.lastError = describeJoinEnd(end)
    relay.retryAt = this.components.now() + backoffDelay(relay.failures, { baseMs: ROOM_REJOIN_BASE_MS, maxMs: ROOM_REJOIN_MAX_MS }, () => this.components.random())
    relay.state = 'down'
    relay.refusal = end.kind === 'refused'
      ? new LifelineError('ROOM_REFUSED', `Relay ${relay.relayId} refused to join room "${this.name}": ${relay.lastError}`)
      : undefined
    this.components.log('room "%s" on relay %s: %s; joining again in %d ms', this.name, relay.relayId, relay.lastError, Math.round(relay.retryAt - this.components.now()))
    this.notify()
    this.reconcile()
  }

  private stopActive (relay: RelayState): void {
    const active = relay.active
    if (active === undefined) {
      return
    }
    relay.active = undefined
    relay.state = 'joining'
    active.abort.abort()
    active.stream?.close()
    this.apply(this.view.drop(relay.relayId))
  }

  /** The members of an event that pass every check; the others are counted and dropped. */
  private async verified (members: Member[]): Promise<MemberEntry[]> {
    const { entries, invalid } = await verifyMembers(members, this.topic, this.components.self.toString(), entry => this.view.knows(entry))
    for (const { peerId, reason } of invalid) {
      this.invalidRecords++
      this.components.log('room "%s": dropped a member record of %s (%s)', this.name, peerId ?? 'an unknown peer', reason)
    }
    return entries
  }

  private apply (changes: ViewChange[]): void {
    for (const change of changes) {
      const peerId = change.member.peerId
      if (change.type === 'join') {
        this.links.listen(peerId)
        this.autoConnect?.consider(peerId)
      } else if (change.type === 'leave') {
        this.links.forget(peerId)
        this.autoConnect?.forget(peerId)
      }
      this.safeDispatchEvent(change.type, { detail: toMember(change.member) })
    }
    if (changes.length > 0) {
      this.notify()
    }
  }

  /** Every record is newer than the last: ms since the epoch, or one more when the clock is behind. */
  private nextSeq (): bigint {
    const now = BigInt(Math.floor(this.components.now()))
    this.seq = now > this.seq ? now : this.seq + 1n
    return this.seq
  }

  private notify (): void {
    this.changed.dispatchEvent(new Event('change'))
    this.safeDispatchEvent('status', { detail: this.status() })
    this.components.onChange()
  }
}

function toMember (member: ViewMember): RoomMember {
  return { peerId: member.peerId, metadata: member.metadata, relays: [...member.relays] }
}
