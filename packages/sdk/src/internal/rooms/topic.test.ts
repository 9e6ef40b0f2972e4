import { describe, expect, it } from 'vitest'
import { codeOf } from '../../../test/support.js'
import { MAX_ROOM_NAME_BYTES } from '../../constants.js'
import { roomTopic } from './topic.js'

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

describe('roomTopic', () => {
  it('is SHA-256 of "lifeline-room/v1\\0" + namespace + "\\0" + name, as rooms.proto defines it', async () => {
    // sha256sum of the bytes, computed outside the SDK
    expect(hex(await roomTopic('lifeline', 'chat'))).toBe('754dd117081fafa023e2e7c647bc597fbb6d068ecb2136179c04317afb5da5bd')
    expect(hex(await roomTopic('test-app', 'kitchen 🍳'))).toBe('5caf843af9834143a1c4ae17710250544ed43ee71285ec88045db3cb4744342f')
  })

  it('separates namespace and name, so ("a", "b\\0c") is not ("a\\0b", "c")', async () => {
    expect(hex(await roomTopic('a', 'bc'))).not.toBe(hex(await roomTopic('ab', 'c')))
  })

  it('refuses an empty or overlong name with INVALID_CONFIG', async () => {
    expect(await codeOf(roomTopic('lifeline', ''))).toBe('INVALID_CONFIG')
    expect(await codeOf(roomTopic('', 'chat'))).toBe('INVALID_CONFIG')
    expect(await codeOf(roomTopic('lifeline', 'x'.repeat(MAX_ROOM_NAME_BYTES + 1)))).toBe('INVALID_CONFIG')
    expect(await codeOf(roomTopic('lifeline', 'x'.repeat(MAX_ROOM_NAME_BYTES)))).toBeUndefined()
  })
})
