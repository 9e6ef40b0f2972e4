/**
 * The rooms directory of a fleet of relays, in one Redis (`--redis`). Layout, every
 * key and channel under the prefix P (`lifeline:` by default):
 *
 * - `P room:<topic hex>:member:<peer>:<relay>`: one relay's membership of one peer,
 *   an encoded `Member` (the SignedMember, the relay's addresses and ID), with a TTL.
 * - `P room:<topic hex>:members`: set of `<peer>:<relay>` for enumeration, with a TTL;
 *   a reader drops the names whose entry is gone (a Lua script, atomically).
 * - `P peer:<peer>:relay:<relay>`: a reservation, an encoded `Member` without
 *   `signed`, with a TTL; `P peer:<peer>:relays`: set of `<relay>`, with a TTL.
 * - channel `P room:<topic hex>:events`: an encoded `RoomEvent`, JOINED (one member)
 *   or LEFT (peer_id, relay_id), published by the holding relay on every change.
 *
 * The holding relay writes its entries again every TTL / PRESENCE_REFRESHES_PER_TTL
 * (pipelined), so a relay that dies without a goodbye is gone within the TTL. No
 * command is queued while Redis is unreachable (`enableOfflineQueue: false`): they
 * fail at once, the directory reports 'down', and on reconnecting every local entry
 * is written again before 'up'. Peer IDs are base58 and hex has no ':', so the
 * separators are unambiguous.
 */
import { Redis } from 'ioredis'
import { TypedEventEmitter } from 'main-event'
import { peerIdFromMultihash } from '@libp2p/peer-id'
import * as Digest from 'multiformats/hashes/digest'
import { REDIS_COMMAND_TIMEOUT_MS, REDIS_RECONNECT_MAX_MS, REDIS_RECONNECT_STEP_MS, REDIS_START_TIMEOUT_MS } from '../constants.js'
import { DirectoryUnavailableError, type Directory, type DirectoryEvents, type Presence } from './directory.js'
import { Member, MemberRecord, RoomEvent } from './pb/rooms.js'
import { RedisLayout, type Pipeline } from './redis-layout.js'
import type { Logger } from '@libp2p/interface'

export interface RedisDirectoryInit {
  /** `redis://[user:password@]host:port[/db]` or `rediss://` for TLS. */
  url: string
  prefix: string
  /** This relay's peer ID: the `<relay>` of the entries it holds. */
  relayId: string
  ttlMs: number
  /** How often this relay's entries are written again. */
  refreshMs: number
  log: Logger
}

/**
 * Reads a set of names and the entry of each (KEYS[1] the set, ARGV[1] the entries'
 * key prefix), removing from the set, in the same step, the names whose entry
 * expired: a reader never sees a name without an entry, and a name is never removed
 * while its holder is writing it again.
 */
const READ_SET_SCRIPT = `
local names = redis.call('SMEMBERS', KEYS[1])
local out = {}
for _, name in ipairs(names) do
  local value = redis.call('GET', ARGV[1] .. name)
  if value then
    table.insert(out, value)
  else
    redis.call('SREM', KEYS[1], name)
  end
end
return out`

/** Where a Redis URL points, without its credentials, for logs. */
export function describeRedisUrl (url: string): string {
  try {
    const parsed = new URL(url)
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`
  } catch {
    return '(unparseable Redis URL)'
  }
}

interface HeldMember {
  topic: string
  peer: string
  bytes: Uint8Array
}

export class RedisDirectory extends TypedEventEmitter<DirectoryEvents> implements Directory {
  readonly engine = 'redis'
  private readonly init: RedisDirectoryInit
  private readonly layout: RedisLayout
  private readonly client: Redis
  private readonly subscriber: Redis
  /** This relay's memberships, by `topic/peer`, written again on refresh and reconnect. */
  private readonly heldMembers = new Map<string, HeldMember>()
  /** This relay's reservations, by peer. */
  private readonly heldPeers = new Map<string, Uint8Array>()
  private readonly watched = new Map<string, number>()
  private up = false
  private stopped = false
  private refreshTimer: ReturnType<typeof setInterval> | undefined
  /** Bumped on every reconnect, so a slow recovery does not announce 'up' for an older one. */
  private generation = 0

  constructor (init: RedisDirectoryInit) {
    super()
    this.init = init
    this.layout = new RedisLayout(init.prefix, init.relayId, init.ttlMs)
    const options = {
      // no command waits for a connection: a write while Redis is away is dropped
      // (and written again on reconnect), a read fails at once
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
      connectTimeout: REDIS_COMMAND_TIMEOUT_MS,
      // channels are subscribed again by this class on reconnect, after the rewrite
      autoResubscribe: false,
      lazyConnect: true,
      retryStrategy: (times: number) => Math.min(times * REDIS_RECONNECT_STEP_MS, REDIS_RECONNECT_MAX_MS)
    }
    this.client = new Redis(init.url, options)
    this.subscriber = new Redis(init.url, options)
    for (const connection of [this.client, this.subscriber]) {
      // without a listener ioredis prints every failed reconnect to the console;
      // the state change is logged once by onConnectionState
      connection.on('error', (err: Error) => { this.init.log.trace('redis: %s', err.message) })
      connection.on('ready', () => { this.onConnectionState() })
      connection.on('close', () => { this.onConnectionState() })
    }
    this.subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => { this.onMessage(channel, message) })
  }

  get available (): boolean {
    return this.up
  }

  /** Connects, waiting at most REDIS_START_TIMEOUT_MS; the relay serves either way. */
  async start (): Promise<void> {
    const connected = new Promise<void>(resolve => {
      const check = (): void => {
        if (this.up) {
          this.removeEventListener('up', check)
          resolve()
        }
      }
      this.addEventListener('up', check)
      setTimeout(() => {
        this.removeEventListener('up', check)
        resolve()
      }, REDIS_START_TIMEOUT_MS).unref()
    })
    // a failed first attempt goes on retrying (retryStrategy); its error is logged there
    this.client.connect().catch(() => {})
    this.subscriber.connect().catch(() => {})
    this.refreshTimer = setInterval(() => { this.refresh() }, this.init.refreshMs)
    await connected
    if (!this.up) {
      this.init.log.error('rooms directory: Redis at %s not reachable yet; rooms work per relay until it is', describeRedisUrl(this.init.url))
    }
  }

  async stop (): Promise<void> {
    this.stopped = true
    clearInterval(this.refreshTimer)
    if (this.up) {
      // a clean stop takes this relay's entries away at once rather than at their TTL
      const pipeline = this.client.pipeline()
      for (const held of this.heldMembers.values()) {
        this.layout.removeMember(pipeline, held.topic, held.peer)
      }
      for (const peer of this.heldPeers.keys()) {
        this.layout.removePeer(pipeline, peer)
      }
      await pipeline.exec().catch(() => {})
    }
    this.up = false
    this.client.disconnect()
    this.subscriber.disconnect()
  }

  putMember (presence: Presence): void {
    const bytes = Member.encode(presence.member)
    this.heldMembers.set(`${presence.topic}/${presence.peer}`, { topic: presence.topic, peer: presence.peer, bytes })
    if (!this.up) {
      return
    }
    const pipeline = this.client.pipeline()
    this.layout.putMember(pipeline, presence.topic, presence.peer, bytes)
    pipeline.publish(this.layout.channel(presence.topic), Buffer.from(RoomEvent.encode({
      type: RoomEvent.Type.JOINED,
      members: [presence.member],
      peerId: new Uint8Array(),
      relayId: new Uint8Array(),
      code: RoomEvent.ErrorCode.NONE,
      message: '',
      partial: false
    })))
    this.exec(pipeline)
  }

  removeMember (topic: string, peer: string): void {
    if (!this.heldMembers.delete(`${topic}/${peer}`) || !this.up) {
      return
    }
    const pipeline = this.client.pipeline()
    this.layout.removeMember(pipeline, topic, peer)
    this.exec(pipeline)
  }

  putPeer (peer: string, location: Member): void {
    const bytes = Member.encode(location)
    this.heldPeers.set(peer, bytes)
    if (this.up) {
      const pipeline = this.client.pipeline()
      this.layout.putPeer(pipeline, peer, bytes)
      this.exec(pipeline)
    }
  }

  removePeer (peer: string): void {
    if (!this.heldPeers.delete(peer) || !this.up) {
      return
    }
    const pipeline = this.client.pipeline()
    this.layout.removePeer(pipeline, peer)
    this.exec(pipeline)
  }

  async members (topic: string): Promise<Presence[]> {
    const values = await this.readSet(this.layout.membersSet(topic), this.layout.memberPrefix(topic))
    const presences: Presence[] = []
    for (const value of values) {
      try {
        const member = Member.decode(value)
        const peer = peerOfMember(member)
        if (peer !== undefined) {
          presences.push({ topic, peer, relayId: peerIdFromMultihash(Digest.decode(member.relayId)).toString(), member })
        }
      } catch {
        // an entry this version cannot read is someone else's; skip it
      }
    }
    return presences
  }

  async lookup (peer: string): Promise<Member[]> {
    const values = await this.readSet(this.layout.relaysSet(peer), this.layout.relayPrefix(peer))
    const members: Member[] = []
    for (const value of values) {
      try {
        members.push(Member.decode(value))
      } catch {
        // as above
      }
    }
    return members
  }

  watch (topic: string): void {
    const count = this.watched.get(topic) ?? 0
    this.watched.set(topic, count + 1)
    if (count === 0 && this.up) {
      this.subscriber.subscribe(this.layout.channel(topic)).catch(() => {})
    }
  }

  unwatch (topic: string): void {
    const count = (this.watched.get(topic) ?? 0) - 1
    if (count > 0) {
      this.watched.set(topic, count)
      return
    }
    this.watched.delete(topic)
    if (this.up) {
      this.subscriber.unsubscribe(this.layout.channel(topic)).catch(() => {})
    }
  }

  private async readSet (setKey: string, entryPrefix: string): Promise<Buffer[]> {
    if (!this.up) {
      throw new DirectoryUnavailableError()
    }
    let result: unknown
    try {
      result = await this.client.callBuffer('EVAL', READ_SET_SCRIPT, 1, setKey, entryPrefix)
    } catch (err: unknown) {
      throw new DirectoryUnavailableError(`the rooms directory did not answer: ${err instanceof Error ? err.message : String(err)}`)
    }
    return Array.isArray(result) ? result.filter((value): value is Buffer => Buffer.isBuffer(value)) : []
  }

  /** Up when both connections are ready; down as soon as either is lost. */
  private onConnectionState (): void {
    if (this.stopped) {
      return
    }
    const ready = this.client.status === 'ready' && this.subscriber.status === 'ready'
    if (!ready && this.up) {
      this.up = false
      this.generation++
      this.init.log.error('rooms directory: lost Redis at %s; serving this relay\'s own members until it is back', describeRedisUrl(this.init.url))
      this.safeDispatchEvent('down')
    } else if (ready && !this.up) {
      void this.recover(++this.generation)
    }
  }

  /** Writes every local entry again and subscribes every watched channel, then reports 'up'. */
  private async recover (generation: number): Promise<void> {
    const pipeline = this.client.pipeline()
    for (const held of this.heldMembers.values()) {
      this.layout.putMember(pipeline, held.topic, held.peer, held.bytes)
    }
    for (const [peer, bytes] of this.heldPeers) {
      this.layout.putPeer(pipeline, peer, bytes)
    }
    try {
      await pipeline.exec()
      const channels = [...this.watched.keys()].map(topic => this.layout.channel(topic))
      if (channels.length > 0) {
        await this.subscriber.subscribe(...channels)
      }
    } catch (err: unknown) {
      // lost again meanwhile: the next 'ready' tries again
      this.init.log.trace('redis: recovery failed: %s', err instanceof Error ? err.message : String(err))
      return
    }
    if (generation !== this.generation || this.stopped || this.client.status !== 'ready' || this.subscriber.status !== 'ready') {
      return
    }
    this.up = true
    this.init.log('rooms directory: connected to Redis at %s, %d memberships and %d reservations written', describeRedisUrl(this.init.url), this.heldMembers.size, this.heldPeers.size)
    this.safeDispatchEvent('up')
  }

  private refresh (): void {
    if (!this.up || (this.heldMembers.size === 0 && this.heldPeers.size === 0)) {
      return
    }
    const pipeline = this.client.pipeline()
    for (const held of this.heldMembers.values()) {
      this.layout.putMember(pipeline, held.topic, held.peer, held.bytes)
    }
    for (const [peer, bytes] of this.heldPeers) {
      this.layout.putPeer(pipeline, peer, bytes)
    }
    this.exec(pipeline)
  }

  private onMessage (channel: Buffer, message: Buffer): void {
    const topic = this.layout.topicOfChannel(channel.toString())
    if (topic === undefined || !this.watched.has(topic)) {
      return
    }
    let event: RoomEvent
    try {
      event = RoomEvent.decode(message)
    } catch {
      return
    }
    try {
      const [member] = event.members
      if (event.type === RoomEvent.Type.JOINED && member !== undefined) {
        const peer = peerOfMember(member)
        if (peer !== undefined) {
          const relayId = peerIdFromMultihash(Digest.decode(member.relayId)).toString()
          this.safeDispatchEvent('member:put', { detail: { topic, peer, relayId, member } })
        }
      } else if (event.type === RoomEvent.Type.LEFT) {
        const peer = peerIdFromMultihash(Digest.decode(event.peerId)).toString()
        const relayId = peerIdFromMultihash(Digest.decode(event.relayId)).toString()
        this.safeDispatchEvent('member:removed', { detail: { topic, peer, relayId } })
      }
    } catch {
      // peer IDs that do not decode: not from a relay of this version
    }
  }

  /** Sends a pipeline; a failure means Redis is away, which the connection events report. */
  private exec (pipeline: Pipeline): void {
    pipeline.exec().catch((err: unknown) => {
      this.init.log.trace('redis: write failed: %s', err instanceof Error ? err.message : String(err))
    })
  }
}


/** The peer ID a member's signed record names, or undefined when it does not decode. */
function peerOfMember (member: Member): string | undefined {
  if (member.signed === undefined) {
    return undefined
  }
  try {
    return peerIdFromMultihash(Digest.decode(MemberRecord.decode(member.signed.record).peerId)).toString()
  } catch {
    return undefined
  }
}
