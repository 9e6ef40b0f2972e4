/**
 * Where the rooms directory keeps things in Redis (the layout is described in
 * redis-directory.ts): key and channel names under one prefix, and the pipelined
 * commands that write and remove one relay's entries.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { RoomEvent } from './pb/rooms.js'
import type { Redis } from 'ioredis'

export type Pipeline = ReturnType<Redis['pipeline']>

export function peerIdBytes (peer: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(peerIdFromString(peer).toMultihash().bytes)
}

export class RedisLayout {
  private readonly prefix: string
  /** This relay's peer ID: the `<relay>` of the entries it writes. */
  private readonly relayId: string
  private readonly ttlMs: number

  constructor (prefix: string, relayId: string, ttlMs: number) {
    this.prefix = prefix
    this.relayId = relayId
    this.ttlMs = ttlMs
  }

  /** The set of `<peer>:<relay>` names of a room, and the prefix of its entries. */
  membersSet (topic: string): string {
    return `${this.roomKey(topic)}:members`
  }

  memberPrefix (topic: string): string {
    return `${this.roomKey(topic)}:member:`
  }

  /** The set of relays a peer is reserved on, and the prefix of its entries. */
  relaysSet (peer: string): string {
    return `${this.peerKey(peer)}:relays`
  }

  relayPrefix (peer: string): string {
    return `${this.peerKey(peer)}:relay:`
  }

  putMember (pipeline: Pipeline, topic: string, peer: string, bytes: Uint8Array): void {
    const name = `${peer}:${this.relayId}`
    const room = this.roomKey(topic)
    pipeline.set(`${room}:member:${name}`, Buffer.from(bytes), 'PX', this.ttlMs)
    pipeline.sadd(`${room}:members`, name)
    pipeline.pexpire(`${room}:members`, this.ttlMs)
  }

  removeMember (pipeline: Pipeline, topic: string, peer: string): void {
    const name = `${peer}:${this.relayId}`
    const room = this.roomKey(topic)
    pipeline.del(`${room}:member:${name}`)
    pipeline.srem(`${room}:members`, name)
    pipeline.publish(this.channel(topic), Buffer.from(RoomEvent.encode({
      type: RoomEvent.Type.LEFT,
      members: [],
      peerId: peerIdBytes(peer),
      relayId: peerIdBytes(this.relayId),
      code: RoomEvent.ErrorCode.NONE,
      message: '',
      partial: false
    })))
  }

  putPeer (pipeline: Pipeline, peer: string, bytes: Uint8Array): void {
    const key = this.peerKey(peer)
    pipeline.set(`${key}:relay:${this.relayId}`, Buffer.from(bytes), 'PX', this.ttlMs)
    pipeline.sadd(`${key}:relays`, this.relayId)
    pipeline.pexpire(`${key}:relays`, this.ttlMs)
  }

  removePeer (pipeline: Pipeline, peer: string): void {
    const key = this.peerKey(peer)
    pipeline.del(`${key}:relay:${this.relayId}`)
    pipeline.srem(`${key}:relays`, this.relayId)
  }

  roomKey (topic: string): string {
    return `${this.prefix}room:${topic}`
  }

  peerKey (peer: string): string {
    return `${this.prefix}peer:${peer}`
  }

  channel (topic: string): string {
    return `${this.roomKey(topic)}:events`
  }

  topicOfChannel (channel: string): string | undefined {
    const head = `${this.prefix}room:`
    if (!channel.startsWith(head) || !channel.endsWith(':events')) {
      return undefined
    }
    return channel.slice(head.length, -':events'.length)
  }
}
