/**
 * Who is in which room and which relay holds whom, across a fleet of relays. Every
 * relay keeps its own members and reservations itself (rooms/hub.ts) and writes them
 * here, so that other relays can list them in their SNAPSHOTs and answer LOOKUPs for
 * them. Two engines: `MemoryDirectory` (one relay alone, nothing to start) and
 * `RedisDirectory` (a fleet sharing one Redis; redis-directory.ts).
 *
 * Writes are fire-and-forget: the directory remembers this relay's own entries and
 * writes them again whenever it can (refresh, reconnect), so a caller never waits
 * for, or fails because of, the shared store. Reads fail with
 * `DirectoryUnavailableError` while it is unreachable.
 */
import { TypedEventEmitter, type TypedEventTarget } from 'main-event'
import type { Member } from './pb/rooms.js'

/** One member of one room as held by one relay. */
export interface Presence {
  /** The room's topic, lowercase hex. */
  topic: string
  /** The member's peer ID. */
  peer: string
  /** The holding relay's peer ID. */
  relayId: string
  /** The signed record with the holding relay's addresses and ID, as sent to members. */
  member: Member
}

export interface PresenceRemoved {
  topic: string
  peer: string
  relayId: string
}

export interface DirectoryEvents {
  /** A membership appeared or changed somewhere in the fleet (this relay's own included). */
  'member:put': CustomEvent<Presence>
  /** A membership ended somewhere in the fleet. */
  'member:removed': CustomEvent<PresenceRemoved>
  /**
   * The directory is reachable again and this relay's entries are written back;
   * whatever was missed meanwhile is only found by reading again.
   */
  'up': Event
  /** The directory became unreachable: reads fail until 'up'. */
  'down': Event
}

export interface Directory extends TypedEventTarget<DirectoryEvents> {
  /** `memory` or `redis`, for stats and logs. */
  readonly engine: 'memory' | 'redis'
  /** True while reads can succeed. */
  readonly available: boolean
  start(): Promise<void>
  stop(): Promise<void>
  /** This relay holds `presence.peer` in `presence.topic` (new or changed). */
  putMember(presence: Presence): void
  /** This relay no longer holds `peer` in `topic`. */
  removeMember(topic: string, peer: string): void
  /** This relay holds a reservation for `peer`; `location` has the relay's addresses and ID. */
  putPeer(peer: string, location: Member): void
  removePeer(peer: string): void
  /**
   * Every member of `topic` on every relay, this one included.
   *
   * @throws DirectoryUnavailableError while the directory is unreachable
   */
  members(topic: string): Promise<Presence[]>
  /**
   * Where `peer` holds reservations: one Member (without `signed`) per relay.
   *
   * @throws DirectoryUnavailableError while the directory is unreachable
   */
  lookup(peer: string): Promise<Member[]>
  /** Start (counted) or stop hearing 'member:*' events of `topic`. */
  watch(topic: string): void
  unwatch(topic: string): void
}

export class DirectoryUnavailableError extends Error {
  constructor (message = 'the rooms directory is unreachable') {
    super(message)
    this.name = 'DirectoryUnavailableError'
  }
}

/**
 * What several MemoryDirectory instances share. One relay has its own; tests give
 * one to several in-process relays to make a fleet without Redis.
 */
export class MemoryStore {
  readonly presences = new Map<string, Map<string, Presence>>()
  readonly locations = new Map<string, Map<string, Member>>()
  readonly directories = new Set<MemoryDirectory>()
}

/** The in-process directory: always available, entries gone with the process. */
export class MemoryDirectory extends TypedEventEmitter<DirectoryEvents> implements Directory {
  readonly engine = 'memory'
  readonly available = true
  private readonly store: MemoryStore
  private readonly relayId: string
  private readonly watched = new Map<string, number>()

  constructor (init: { relayId: string, store?: MemoryStore }) {
    super()
    this.relayId = init.relayId
    this.store = init.store ?? new MemoryStore()
  }

  start (): Promise<void> {
    this.store.directories.add(this)
    return Promise.resolve()
  }

  stop (): Promise<void> {
    this.store.directories.delete(this)
    for (const [topic, members] of this.store.presences) {
      for (const presence of [...members.values()]) {
        if (presence.relayId === this.relayId) {
          this.removeMember(topic, presence.peer)
        }
      }
    }
    for (const peer of [...this.store.locations.keys()]) {
      this.removePeer(peer)
    }
    return Promise.resolve()
  }

  putMember (presence: Presence): void {
    const members = this.store.presences.get(presence.topic) ?? new Map<string, Presence>()
    this.store.presences.set(presence.topic, members)
    members.set(`${presence.peer}/${presence.relayId}`, presence)
    this.publish(presence.topic, directory => { directory.safeDispatchEvent('member:put', { detail: presence }) })
  }

  removeMember (topic: string, peer: string): void {
    const members = this.store.presences.get(topic)
    if (members?.delete(`${peer}/${this.relayId}`) !== true) {
      return
    }
    if (members.size === 0) {
      this.store.presences.delete(topic)
    }
    const removed: PresenceRemoved = { topic, peer, relayId: this.relayId }
    this.publish(topic, directory => { directory.safeDispatchEvent('member:removed', { detail: removed }) })
  }

  putPeer (peer: string, location: Member): void {
    const relays = this.store.locations.get(peer) ?? new Map<string, Member>()
    this.store.locations.set(peer, relays)
    relays.set(this.relayId, location)
  }

  removePeer (peer: string): void {
    const relays = this.store.locations.get(peer)
    relays?.delete(this.relayId)
    if (relays?.size === 0) {
      this.store.locations.delete(peer)
    }
  }

  members (topic: string): Promise<Presence[]> {
    return Promise.resolve([...this.store.presences.get(topic)?.values() ?? []])
  }

  lookup (peer: string): Promise<Member[]> {
    return Promise.resolve([...this.store.locations.get(peer)?.values() ?? []])
  }

  watch (topic: string): void {
    this.watched.set(topic, (this.watched.get(topic) ?? 0) + 1)
  }

  unwatch (topic: string): void {
    const count = (this.watched.get(topic) ?? 0) - 1
    if (count > 0) {
      this.watched.set(topic, count)
    } else {
      this.watched.delete(topic)
    }
  }

  /** Tells every directory watching `topic`, after the caller's own work (as a pub/sub would). */
  private publish (topic: string, tell: (directory: MemoryDirectory) => void): void {
    for (const directory of this.store.directories) {
      if (directory.watched.has(topic)) {
        queueMicrotask(() => { tell(directory) })
      }
    }
  }
}
