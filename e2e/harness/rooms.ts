/**
 * The harness's room: one at a time, joined with a display name as metadata, with
 * every join/leave event and room message recorded for the tests to read.
 */
import type { Peer, Room } from '@lifeline/sdk'
import type { Outcome, RoomEventRecord, RoomMemberRecord, RoomMessageRecord, RoomsApi } from './api.js'
import { attempt } from './outcome.js'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

function nameOf (metadata: Uint8Array): string {
  return decoder.decode(metadata)
}

export function roomsApi (requirePeer: () => Peer): RoomsApi {
  let room: Room | undefined
  const events: RoomEventRecord[] = []
  const messages: RoomMessageRecord[] = []
  const requireRoom = (): Room => {
    if (room === undefined) {
      throw new Error('no room joined: call joinRoom() first')
    }
    return room
  }

  return {
    async joinRoom (name, displayName, autoConnect): Promise<Outcome> {
      return attempt(async () => {
        const joined = await requirePeer().join(name, { metadata: encoder.encode(displayName), autoConnect })
        joined.addEventListener('join', (event) => { events.push({ type: 'join', peerId: event.detail.peerId, name: nameOf(event.detail.metadata) }) })
        joined.addEventListener('leave', (event) => { events.push({ type: 'leave', peerId: event.detail.peerId, name: nameOf(event.detail.metadata) }) })
        joined.addEventListener('message', (event) => { messages.push({ from: event.detail.from, text: decoder.decode(event.detail.data) }) })
        room = joined
      })
    },
    roomMembers (): RoomMemberRecord[] {
      return requireRoom().members()
        .map((member) => ({ peerId: member.peerId, name: nameOf(member.metadata) }))
        .sort((x, y) => x.name.localeCompare(y.name))
    },
    async roomSend (text): Promise<Outcome> {
      return attempt(async () => { await requireRoom().send(text) })
    },
    roomMessages: () => messages,
    roomEvents: () => events,
    async leaveRoom (): Promise<Outcome> {
      return attempt(async () => { await requireRoom().leave() })
    }
  }
}
