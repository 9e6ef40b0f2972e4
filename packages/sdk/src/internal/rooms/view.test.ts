import { describe, expect, it } from 'vitest'
import type { MemberEntry } from './records.js'
import { RoomView, type ViewChange } from './view.js'

const SELF = 'self'

function entry (peerId: string, relayId: string, metadata = peerId, seq = 1n): MemberEntry {
  const bytes = new TextEncoder().encode(metadata)
  return { peerId, relayId, relay: undefined, metadata: bytes, seq, signed: { record: bytes, signature: new TextEncoder().encode(`${peerId}/${relayId}/${seq}`) } }
}

const view = (maxMembers = 16): RoomView => new RoomView({ self: SELF, maxMembers, maxRelaysPerMember: 2 })
const summary = (changes: ViewChange[]): string[] => changes.map(c => `${c.type} ${c.member.peerId} [${c.member.relays.join(',')}]`)
const text = (bytes: Uint8Array | undefined): string => new TextDecoder().decode(bytes)

describe('a room\'s view across relays', () => {
  it('replaces a relay\'s view wholesale with its SNAPSHOT', () => {
    const v = view()
    expect(summary(v.replace('r1', [entry('a', 'r1'), entry('b', 'r1')]))).toEqual(['join a [r1]', 'join b [r1]'])
    // the relay rebuilt its view: b is gone, c is new, a unchanged
    expect(summary(v.replace('r1', [entry('a', 'r1'), entry('c', 'r1')]))).toEqual(['leave b [r1]', 'join c [r1]'])
    expect(v.members().map(m => m.peerId).sort()).toEqual(['a', 'c'])
  })

  it('keeps a member while any relay view lists it: it joins with its first entry and leaves with its last', () => {
    const v = view()
    // r1 and r2 are our relays; in a fleet both list b, held on r3
    expect(summary(v.replace('r1', [entry('b', 'r3')]))).toEqual(['join b [r3]'])
    expect(summary(v.replace('r2', [entry('b', 'r3'), entry('b', 'r2')]))).toEqual(['update b [r2,r3]'])
    expect(summary(v.remove('r2', 'b', 'r2'))).toEqual(['update b [r3]'])
    expect(summary(v.drop('r1'))).toEqual([])
    expect(summary(v.remove('r2', 'b', 'r3'))).toEqual(['leave b [r3]'])
    expect(v.members()).toEqual([])
  })

  it('shows a partial SNAPSHOT (directory away) as fewer members, and the full one brings them back', () => {
    const v = view()
    v.replace('r1', [entry('a', 'r1'), entry('b', 'r2')])
    // Redis down: r1 lists only its own members
    expect(summary(v.replace('r1', [entry('a', 'r1')]))).toEqual(['leave b [r2]'])
    expect(summary(v.replace('r1', [entry('a', 'r1'), entry('b', 'r2')]))).toEqual(['join b [r2]'])
  })

  it('takes the metadata of the newest record, and tells an update', () => {
    const v = view()
    v.replace('r1', [entry('a', 'r1', 'old', 1n)])
    expect(summary(v.put('r1', entry('a', 'r1', 'new', 2n)))).toEqual(['update a [r1]'])
    // another relay still has the older record: the newer wins
    v.replace('r2', [entry('a', 'r2', 'old', 1n)])
    expect(text(v.member('a')?.metadata)).toBe('new')
  })

  it('never lists this peer, and keeps at most maxMembers members and maxRelaysPerMember relays each', () => {
    const v = view(2)
    expect(summary(v.replace('r1', [entry(SELF, 'r1'), entry('a', 'r1'), entry('b', 'r1'), entry('c', 'r1')]))).toEqual(['join a [r1]', 'join b [r1]'])
    expect(v.dropped).toBe(1)
    v.put('r1', entry('a', 'r2'))
    v.put('r1', entry('a', 'r3'))
    expect(v.member('a')?.relays).toEqual(['r1', 'r2'])
    expect(v.dropped).toBe(2)
  })

  it('recognises a record it verified before, byte for byte', () => {
    const v = view()
    v.replace('r1', [entry('a', 'r1')])
    expect(v.knows(entry('a', 'r1'))).toBe(true)
    expect(v.knows(entry('a', 'r1', 'a', 2n))).toBe(false)
  })
})
