/**
 * The rooms of one peer: `join()`, the rooms joined (each told when the pool's
 * reservations change and when a link opens), LOOKUP, and the relay hints both give
 * for dialling a peer through relays we do not use ourselves (`hintsFor`).
 */
import type { Connection, Logger, PeerId, PrivateKey, Stream } from '@libp2p/interface'
import { DEFAULT_JOIN_TIMEOUT_MS, MAX_LOOKUP_HINTS, ROOM_LOOKUP_TIMEOUT_MS } from '../../constants.js'
import { isLifelineError, LifelineError } from '../../errors.js'
import type { AbortOptions, ConnectOptions, JoinOptions, Link, Room, RoomStatus } from '../../types.js'
import { abortError, anySignal, deadline } from '../util/abort.js'
import type { RelayAddress } from '../util/parse.js'
import { lookupOn } from './lookup.js'
import { metadataBytes, signMember } from './records.js'
import { RoomImpl, type HeldRelay } from './room.js'
import { roomNameBytes, topicBytes } from './topic.js'

export interface RoomsComponents {
  self: PeerId
  privateKey: PrivateKey
  namespace: string
  held(): HeldRelay[]
  /** Resolves once a relay holds our reservation (Peer.online). */
  online(options: AbortOptions): Promise<void>
  newStream(connection: Connection, signal: AbortSignal): Promise<Stream>
  connect(peerId: string, options: ConnectOptions): Promise<Link>
  link(peerId: string): Link | undefined
  now(): number
  random(): number
  log: Logger
  onChange(): void
}

export type LookupOutcome =
  /** Relays the peer is reserved on, kept as its hints. */
  | { kind: 'found', relays: RelayAddress[] }
  | { kind: 'unknown' }
  /** No relay could answer: every one that tried had its directory away. */
  | { kind: 'directory-unavailable' }

export class Rooms {
  private readonly components: RoomsComponents
  /** Rooms joined or being joined, by name. */
  private readonly rooms = new Map<string, RoomImpl>()
  private readonly joining = new Set<string>()
  /** LOOKUP answers by peer, oldest first (MAX_LOOKUP_HINTS). */
  private readonly lookups = new Map<string, RelayAddress[]>()

  constructor (components: RoomsComponents) {
    this.components = components
    roomNameBytes('namespace', components.namespace)
  }

  async join (name: string, options: JoinOptions = {}): Promise<Room> {
    roomNameBytes('name', name)
    const metadata = metadataBytes(options.metadata)
    if (this.rooms.has(name) || this.joining.has(name)) {
      throw new LifelineError('INVALID_CONFIG', `Room "${name}" is joined already: use its Room, or leave() it first`)
    }
    const what = `Joining room "${name}"`
    const limit = deadline(options, DEFAULT_JOIN_TIMEOUT_MS, what)
    this.joining.add(name)
    let room: RoomImpl | undefined
    try {
      const topic = topicBytes(this.components.namespace, name)
      await this.components.online({ signal: limit.signal })
      room = new RoomImpl({ name, topic, metadata, autoConnect: options.autoConnect ?? false }, {
        ...this.components,
        sign: async fields => signMember(this.components.privateKey, this.components.self, fields),
        onLeft: left => {
          if (this.rooms.get(left.name) === left) {
            this.rooms.delete(left.name)
          }
        }
      })
      this.rooms.set(name, room)
      await room.start()
      await room.joined({ signal: limit.signal })
      return room
    } catch (err: unknown) {
      await room?.leave()
      // a fired deadline or caller signal is ABORTED/TIMEOUT; anything else is passed on as it is
      throw isLifelineError(err) || !limit.signal.aborted ? err : abortError(limit.signal, what)
    } finally {
      this.joining.delete(name)
      limit.clear()
    }
  }

  /** The pool's reservations changed. */
  relaysChanged (): void {
    for (const room of this.rooms.values()) {
      room.reconcile()
    }
  }

  linkAdded (link: Link): void {
    for (const room of this.rooms.values()) {
      room.linkAdded(link)
    }
  }

  status (): RoomStatus[] {
    return [...this.rooms.values()].map(room => room.status())
  }

  /** Relays `remote` is known to be reserved on: its records in our rooms, a LOOKUP answer. */
  hintsFor (remote: string): RelayAddress[] {
    const hints = new Map<string, RelayAddress>()
    for (const room of this.rooms.values()) {
      for (const relay of room.relaysOf(remote)) {
        hints.set(relay.peerId.toString(), relay)
      }
    }
    for (const relay of this.lookups.get(remote) ?? []) {
      if (!hints.has(relay.peerId.toString())) {
        hints.set(relay.peerId.toString(), relay)
      }
    }
    return [...hints.values()]
  }

  /**
   * Ask our relays, best first, where `remote` is reserved, until one knows; the
   * answer is kept as its hints.
   */
  async lookup (remote: PeerId, signal: AbortSignal): Promise<LookupOutcome> {
    let unavailable = false
    let answered = false
    for (const { relay, connection } of this.components.held()) {
      const timeout = deadline({}, ROOM_LOOKUP_TIMEOUT_MS, `LOOKUP on ${relay.text}`)
      const combined = anySignal(signal, timeout.signal)
      try {
        const answer = await lookupOn(connection, async (c, s) => this.components.newStream(c, s), remote, combined.signal)
        if (answer.kind === 'refused') {
          unavailable ||= answer.code === 'DIRECTORY_UNAVAILABLE'
          this.components.log('LOOKUP of %p on %s refused: %s %s', remote, relay.text, answer.code, answer.message)
          continue
        }
        answered = true
        if (answer.relays.length > 0) {
          this.remember(remote.toString(), answer.relays)
          return { kind: 'found', relays: answer.relays }
        }
      } catch (err: unknown) {
        signal.throwIfAborted()
        this.components.log('LOOKUP of %p on %s failed - %e', remote, relay.text, err)
      } finally {
        combined.clear()
        timeout.clear()
      }
    }
    return unavailable && !answered ? { kind: 'directory-unavailable' } : { kind: 'unknown' }
  }

  async stop (): Promise<void> {
    await Promise.all([...this.rooms.values()].map(async room => { await room.leave() }))
  }

  private remember (remote: string, relays: RelayAddress[]): void {
    this.lookups.delete(remote)
    this.lookups.set(remote, relays)
    for (const oldest of this.lookups.keys()) {
      if (this.lookups.size <= MAX_LOOKUP_HINTS) {
        break
      }
      this.lookups.delete(oldest)
    }
  }
}
