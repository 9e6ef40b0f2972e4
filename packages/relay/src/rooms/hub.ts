/**
 * The rooms as this relay sees them: its own members (each a JOIN stream, which is
 * both the membership and the member's subscription to the room), and the members
 * other relays hold, as told by the directory. Local members always come from local
 * state, so a relay whose directory is away still serves its own rooms.
 *
 * What a subscriber is told: one SNAPSHOT (local members, then the fleet's, at most
 * `maxRoomMembers`; `partial` while the directory is away), then a JOINED or LEFT
 * for every change. The view of other relays is rebuilt (and a SNAPSHOT sent again)
 * when the directory goes away and when it comes back, and re-read every
 * `resyncMs` so that a relay that died without a word disappears within the
 * directory's TTL.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { RoomRefusal, type VerifiedMember } from './records.js'
import { Member, RoomEvent } from './pb/rooms.js'
import type { Directory, Presence, PresenceRemoved } from './directory.js'
import type { Subscriber } from './subscriber.js'
import type { Counters } from '../watch/counters.js'
import type { Logger, PeerId } from '@libp2p/interface'

export interface RoomHubComponents {
  directory: Directory
  relayId: PeerId
  /** The relay's own multiaddrs, each ending in /p2p/<relay id>, no circuit addresses. */
  relayAddrs(): string[]
  counters: Counters
  log: Logger
}

export interface RoomHubInit {
  maxRoomMembers: number
  maxRoomsPerPeer: number
  /** How often rooms with local members are read again from the directory. */
  resyncMs: number
}

/** One JOIN stream: a local member of one room. */
export interface Membership {
  readonly topic: string
  readonly peer: string
  seq: bigint
  member: Member
  readonly subscriber: Subscriber
}

interface RemoteMember {
  member: Member
  /** The encoded Member, to tell a change from a repeat. */
  fingerprint: string
}

interface Room {
  topic: string
  local: Map<string, Membership>
  /** Members held by other relays, as told to this room's subscribers, by `peer/relay`. */
  remote: Map<string, RemoteMember>
}

export interface RoomHoldings {
  /** Local memberships (JOIN streams). */
  members: number
  /** Rooms with at least one local member. */
  rooms: number
  directory: 'memory' | 'up' | 'down'
}

export class RoomHub {
  private readonly components: RoomHubComponents
  private readonly init: RoomHubInit
  private readonly rooms = new Map<string, Room>()
  /** Rooms per peer, for `maxRoomsPerPeer`. */
  private readonly roomsOfPeer = new Map<string, number>()
  private readonly relayId: string
  private resyncTimer: ReturnType<typeof setInterval> | undefined
  private resyncing = false
  private readonly listeners: Array<() => void> = []

  constructor (components: RoomHubComponents, init: RoomHubInit) {
    this.components = components
    this.init = init
    this.relayId = components.relayId.toString()
  }

  start (): void {
    const { directory } = this.components
    const onPut = (event: CustomEvent<Presence>): void => { this.onRemotePut(event.detail) }
    const onRemoved = (event: CustomEvent<PresenceRemoved>): void => { this.onRemoteRemoved(event.detail) }
    const onDown = (): void => { this.onDirectoryDown() }
    const onUp = (): void => { void this.rebuildAll() }
    directory.addEventListener('member:put', onPut)
    directory.addEventListener('member:removed', onRemoved)
    directory.addEventListener('down', onDown)
    directory.addEventListener('up', onUp)
    this.listeners.push(() => {
      directory.removeEventListener('member:put', onPut)
      directory.removeEventListener('member:removed', onRemoved)
      directory.removeEventListener('down', onDown)
      directory.removeEventListener('up', onUp)
    })
    this.resyncTimer = setInterval(() => { void this.resync() }, this.init.resyncMs)
  }

  stop (): void {
    clearInterval(this.resyncTimer)
    this.listeners.splice(0).forEach(remove => { remove() })
    for (const room of this.rooms.values()) {
      for (const membership of room.local.values()) {
        membership.subscriber.close()
      }
    }
  }

  holdings (): RoomHoldings {
    let members = 0
    for (const room of this.rooms.values()) {
      members += room.local.size
    }
    const { directory } = this.components
    return { members, rooms: this.rooms.size, directory: directory.engine === 'memory' ? 'memory' : directory.available ? 'up' : 'down' }
  }

  /** This relay's location as a Member without a record: what LOOKUP answers and reservations are published as. */
  location (): Member {
    return { relayAddrs: this.components.relayAddrs(), relayId: this.components.relayId.toMultihash().bytes }
  }

  /**
   * Adds a local member and sends it its SNAPSHOT. A JOIN for a room the peer is
   * already in (on another stream) takes over from the older stream, which is
   * closed: the peer's newest stream is the one it reads.
   *
   * @throws RoomRefusal `rooms-per-peer` or `room-members`
   */
  async join (verified: VerifiedMember, subscriber: Subscriber): Promise<Membership> {
    const peer = verified.peer.toString()
    const room = this.rooms.get(verified.topic)
    const previous = room?.local.get(peer)
    if (previous === undefined) {
      if ((this.roomsOfPeer.get(peer) ?? 0) >= this.init.maxRoomsPerPeer) {
        throw new RoomRefusal('rooms-per-peer', `a peer may be in at most ${this.init.maxRoomsPerPeer} rooms on this relay`)
      }
      if (room !== undefined && room.local.size >= this.init.maxRoomMembers) {
        throw new RoomRefusal('room-members', `this room has ${this.init.maxRoomMembers} members on this relay, the most it holds`)
      }
    }
    const membership: Membership = { topic: verified.topic, peer, seq: verified.record.seq, member: this.memberOf(verified), subscriber }
    const joined = room ?? this.openRoom(verified.topic)
    joined.local.set(peer, membership)
    if (previous === undefined) {
      this.roomsOfPeer.set(peer, (this.roomsOfPeer.get(peer) ?? 0) + 1)
    } else {
      previous.subscriber.close()
      previous.subscriber.stream.abort(new Error('the peer joined this room again on another stream'))
    }
    this.broadcast(joined, joinedEvent(membership.member), subscriber)
    this.components.directory.putMember({ topic: verified.topic, peer, relayId: this.relayId, member: membership.member })
    if (room === undefined) {
      // the first local member of a room: learn who the fleet has in it
      await this.rebuild(joined, false)
    }
    if (!subscriber.isClosed && joined.local.get(peer) === membership) {
      subscriber.send(this.snapshot(joined))
      subscriber.ready = true
    }
    return membership
  }

  /** A newer record on the member's stream: a lower or equal seq changes nothing. */
  update (membership: Membership, verified: VerifiedMember): boolean {
    const room = this.rooms.get(membership.topic)
    if (verified.record.seq <= membership.seq || room?.local.get(membership.peer) !== membership) {
      return false
    }
    membership.seq = verified.record.seq
    membership.member = this.memberOf(verified)
    this.broadcast(room, joinedEvent(membership.member))
    this.components.directory.putMember({ topic: membership.topic, peer: membership.peer, relayId: this.relayId, member: membership.member })
    return true
  }

  /** Ends a membership (its stream closed); a membership another stream took over is left alone. */
  leave (membership: Membership): boolean {
    membership.subscriber.close()
    const room = this.rooms.get(membership.topic)
    if (room?.local.get(membership.peer) !== membership) {
      return false
    }
    room.local.delete(membership.peer)
    const count = (this.roomsOfPeer.get(membership.peer) ?? 1) - 1
    if (count > 0) {
      this.roomsOfPeer.set(membership.peer, count)
    } else {
      this.roomsOfPeer.delete(membership.peer)
    }
    this.broadcast(room, leftEvent(membership.peer, this.relayId))
    this.components.directory.removeMember(membership.topic, membership.peer)
    if (room.local.size === 0) {
      this.rooms.delete(room.topic)
      this.components.directory.unwatch(room.topic)
    }
    return true
  }

  /**
   * Where `peer` is reserved: this relay if `heldHere`, and every relay the directory
   * knows.
   *
   * @throws RoomRefusal `directory-unavailable` when the peer is not held here and
   * the directory is away
   */
  async lookup (peer: PeerId, heldHere: boolean): Promise<Member[]> {
    const found = heldHere ? [this.location()] : []
    let elsewhere: Member[]
    try {
      elsewhere = await this.components.directory.lookup(peer.toString())
    } catch {
      if (heldHere) {
        return found
      }
      throw new RoomRefusal('directory-unavailable', 'the fleet\'s directory is unreachable and the peer holds no reservation on this relay')
    }
    const own = this.components.relayId.toMultihash().bytes
    return [...found, ...elsewhere.filter(member => !sameBytes(member.relayId, own))]
  }

  private openRoom (topic: string): Room {
    const room: Room = { topic, local: new Map(), remote: new Map() }
    this.rooms.set(topic, room)
    this.components.directory.watch(topic)
    return room
  }

  private memberOf (verified: VerifiedMember): Member {
    return { signed: verified.signed, ...this.location() }
  }

  private snapshot (room: Room): RoomEvent {
    const members = [...room.local.values()].map(m => m.member)
    for (const remote of room.remote.values()) {
      members.push(remote.member)
    }
    return {
      ...emptyEvent(RoomEvent.Type.SNAPSHOT),
      members: members.slice(0, this.init.maxRoomMembers),
      partial: !this.components.directory.available
    }
  }

  /** Sends `event` to every subscriber of `room` that has had its SNAPSHOT, but `except`. */
  private broadcast (room: Room, event: RoomEvent, except?: Subscriber): void {
    for (const membership of room.local.values()) {
      if (membership.subscriber !== except && membership.subscriber.ready) {
        membership.subscriber.send(event)
      }
    }
  }

  private onRemotePut (presence: Presence): void {
    const room = this.rooms.get(presence.topic)
    if (room === undefined || presence.relayId === this.relayId) {
      return
    }
    this.applyRemote(room, `${presence.peer}/${presence.relayId}`, presence.member)
  }

  private onRemoteRemoved (removed: PresenceRemoved): void {
    const room = this.rooms.get(removed.topic)
    if (room === undefined || removed.relayId === this.relayId) {
      return
    }
    if (room.remote.delete(`${removed.peer}/${removed.relayId}`)) {
      this.broadcast(room, leftEvent(removed.peer, removed.relayId))
    }
  }

  /** Adds or changes one remote member, telling the room if anything changed; false past the cap. */
  private applyRemote (room: Room, key: string, member: Member): void {
    const fingerprint = Buffer.from(Member.encode(member)).toString('base64')
    const known = room.remote.get(key)
    if (known?.fingerprint === fingerprint) {
      return
    }
    if (known === undefined && room.local.size + room.remote.size >= this.init.maxRoomMembers) {
      return
    }
    room.remote.set(key, { member, fingerprint })
    this.broadcast(room, joinedEvent(member))
  }

  private onDirectoryDown (): void {
    this.components.counters.increment('rooms-directory-down')
    for (const room of this.rooms.values()) {
      room.remote.clear()
      this.broadcast(room, this.snapshot(room))
    }
  }

  /** The directory is back: every room's view is read again and sent whole. */
  private async rebuildAll (): Promise<void> {
    this.components.counters.increment('rooms-directory-up')
    await Promise.all([...this.rooms.values()].map(async room => {
      await this.rebuild(room, true)
      if (this.rooms.get(room.topic) === room) {
        this.broadcast(room, this.snapshot(room))
      }
    }))
  }

  private async resync (): Promise<void> {
    if (this.resyncing || !this.components.directory.available) {
      return
    }
    this.resyncing = true
    try {
      for (const room of [...this.rooms.values()]) {
        await this.rebuild(room, false)
      }
    } finally {
      this.resyncing = false
    }
  }

  /**
   * Reads `room` from the directory. `replace` rebuilds the view silently (a
   * SNAPSHOT follows); otherwise every difference is told as JOINED or LEFT.
   */
  private async rebuild (room: Room, replace: boolean): Promise<void> {
    let presences: Presence[]
    try {
      presences = await this.components.directory.members(room.topic)
    } catch {
      return
    }
    if (this.rooms.get(room.topic) !== room) {
      return
    }
    const seen = new Set<string>()
    if (replace) {
      room.remote.clear()
    }
    for (const presence of presences) {
      if (presence.relayId === this.relayId) {
        continue
      }
      const key = `${presence.peer}/${presence.relayId}`
      seen.add(key)
      if (replace) {
        if (room.local.size + room.remote.size < this.init.maxRoomMembers) {
          room.remote.set(key, { member: presence.member, fingerprint: Buffer.from(Member.encode(presence.member)).toString('base64') })
        }
      } else {
        this.applyRemote(room, key, presence.member)
      }
    }
    for (const key of [...room.remote.keys()]) {
      if (!seen.has(key)) {
        room.remote.delete(key)
        const [peer = '', relayId = ''] = key.split('/')
        this.broadcast(room, leftEvent(peer, relayId))
      }
    }
  }
}

function emptyEvent (type: RoomEvent.Type): RoomEvent {
  return { type, members: [], peerId: new Uint8Array(), relayId: new Uint8Array(), code: RoomEvent.ErrorCode.NONE, message: '', partial: false }
}

function joinedEvent (member: Member): RoomEvent {
  return { ...emptyEvent(RoomEvent.Type.JOINED), members: [member] }
}

function leftEvent (peer: string, relayId: string): RoomEvent {
  return { ...emptyEvent(RoomEvent.Type.LEFT), peerId: peerIdFromString(peer).toMultihash().bytes, relayId: peerIdFromString(relayId).toMultihash().bytes }
}

export function roomEvent (type: RoomEvent.Type, fields: Partial<RoomEvent> = {}): RoomEvent {
  return { ...emptyEvent(type), ...fields }
}

function sameBytes (a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((byte, i) => byte === b[i])
}
