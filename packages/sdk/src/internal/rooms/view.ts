/**
 * Who is in a room, as the union of what each of our relays says (one JOIN stream
 * per relay, each a "source"). A source's view is replaced wholesale by a SNAPSHOT
 * and changed by JOINED and LEFT; a relay we lost takes its view with it. A member
 * is there while at least one entry (one relay holding it, as told by one source)
 * is; its metadata is that of its newest record (highest seq). Pure: every change
 * returns what it did to the members, for the room to tell its listeners.
 */
import type { RelayAddress } from '../util/parse.js'
import { equalBytes, type MemberEntry } from './records.js'

export interface ViewMember {
  peerId: string
  metadata: Uint8Array
  /** Relay peer IDs holding it, sorted. */
  relays: string[]
}

export type ViewChange =
  | { type: 'join' | 'leave' | 'update', member: ViewMember }

export interface RoomViewInit {
  /** This peer: its own entries are not kept. */
  self: string
  /** Distinct members kept (MAX_ROOM_MEMBERS). */
  maxMembers: number
  /** Entries (relays) kept per member and source (MAX_RELAYS_PER_MEMBER). */
  maxRelaysPerMember: number
}

/** Entries of one source: member peer ID -> relay ID -> entry. */
type SourceView = Map<string, Map<string, MemberEntry>>

export class RoomView {
  private readonly init: RoomViewInit
  private readonly sources = new Map<string, SourceView>()
  /** Members not kept because the room was full, or entries past a member's relay cap. */
  dropped = 0

  constructor (init: RoomViewInit) {
    this.init = init
  }

  /** A SNAPSHOT from `source`: its view is `entries`, whatever it said before. */
  replace (source: string, entries: readonly MemberEntry[]): ViewChange[] {
    return this.change(() => {
      this.sources.set(source, new Map())
      for (const entry of entries) {
        this.add(source, entry)
      }
    })
  }

  /** A JOINED from `source`: one membership appeared or changed. */
  put (source: string, entry: MemberEntry): ViewChange[] {
    return this.change(() => { this.add(source, entry) })
  }

  /** A LEFT from `source`. */
  remove (source: string, peerId: string, relayId: string): ViewChange[] {
    return this.change(() => {
      const relays = this.sources.get(source)?.get(peerId)
      relays?.delete(relayId)
      if (relays?.size === 0) {
        this.sources.get(source)?.delete(peerId)
      }
    })
  }

  /** The source is gone (its relay lost, its stream ended): everything it said goes. */
  drop (source: string): ViewChange[] {
    return this.change(() => { this.sources.delete(source) })
  }

  members (): ViewMember[] {
    return [...this.current().values()]
  }

  member (peerId: string): ViewMember | undefined {
    return this.current().get(peerId)
  }

  /** Whether exactly this signed record was verified before (it is in a view now). */
  knows (entry: MemberEntry): boolean {
    for (const view of this.sources.values()) {
      for (const known of view.get(entry.peerId)?.values() ?? []) {
        if (equalBytes(known.signed.signature, entry.signed.signature) && equalBytes(known.signed.record, entry.signed.record)) {
          return true
        }
      }
    }
    return false
  }

  /** The relays holding `peerId`, with their addresses, as its records' relays give them. */
  relaysOf (peerId: string): RelayAddress[] {
    const relays = new Map<string, RelayAddress>()
    for (const view of this.sources.values()) {
      for (const entry of view.get(peerId)?.values() ?? []) {
        if (entry.relay !== undefined && !relays.has(entry.relayId)) {
          relays.set(entry.relayId, entry.relay)
        }
      }
    }
    return [...relays.values()]
  }

  private add (source: string, entry: MemberEntry): void {
    if (entry.peerId === this.init.self) {
      return
    }
    const view = this.sources.get(source) ?? new Map<string, Map<string, MemberEntry>>()
    this.sources.set(source, view)
    let relays = view.get(entry.peerId)
    if (relays === undefined) {
      if (!this.isMember(entry.peerId) && this.countMembers() >= this.init.maxMembers) {
        this.dropped++
        return
      }
      relays = new Map()
      view.set(entry.peerId, relays)
    }
    if (!relays.has(entry.relayId) && relays.size >= this.init.maxRelaysPerMember) {
      this.dropped++
      return
    }
    relays.set(entry.relayId, entry)
  }

  private isMember (peerId: string): boolean {
    for (const view of this.sources.values()) {
      if (view.has(peerId)) {
        return true
      }
    }
    return false
  }

  private countMembers (): number {
    const peers = new Set<string>()
    for (const view of this.sources.values()) {
      for (const peer of view.keys()) {
        peers.add(peer)
      }
    }
    return peers.size
  }

  private current (): Map<string, ViewMember> {
    const newest = new Map<string, MemberEntry>()
    const relays = new Map<string, Set<string>>()
    for (const view of this.sources.values()) {
      for (const [peer, entries] of view) {
        for (const entry of entries.values()) {
          const best = newest.get(peer)
          if (best === undefined || entry.seq > best.seq) {
            newest.set(peer, entry)
          }
          const held = relays.get(peer) ?? new Set<string>()
          held.add(entry.relayId)
          relays.set(peer, held)
        }
      }
    }
    const members = new Map<string, ViewMember>()
    for (const [peer, entry] of newest) {
      members.set(peer, { peerId: peer, metadata: entry.metadata, relays: [...(relays.get(peer) ?? [])].sort() })
    }
    return members
  }

  private change (apply: () => void): ViewChange[] {
    const before = this.current()
    apply()
    const after = this.current()
    const changes: ViewChange[] = []
    for (const [peer, member] of before) {
      if (!after.has(peer)) {
        changes.push({ type: 'leave', member })
      }
    }
    for (const [peer, member] of after) {
      const was = before.get(peer)
      if (was === undefined) {
        changes.push({ type: 'join', member })
      } else if (!equalBytes(was.metadata, member.metadata) || was.relays.join() !== member.relays.join()) {
        changes.push({ type: 'update', member })
      }
    }
    return changes
  }
}
