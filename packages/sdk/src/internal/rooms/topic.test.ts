import { describe, expect, it } from 'vitest'
import { codeOf } from '../../../test/support.js'
import { DEFAULT_ROOM_NAMESPACE, MAX_ROOM_NAME_BYTES } from '../../constants.js'
import { roomTopic, topicBytes } from './topic.js'

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
/** The LifelineError code `call` throws, if any. */
const codeOfCall = async (call: () => unknown): Promise<string | undefined> => codeOf(Promise.resolve().then(call))

describe('topicBytes', () => {
  it('is SHA-256 of "lifeline-room/v1\\0" + namespace + "\\0" + name, as rooms.proto defines it', () => {
    // sha256sum of the bytes, computed outside the SDK
    expect(hex(topicBytes('lifeline', 'chat'))).toBe('754dd117081fafa023e2e7c647bc597fbb6d068ecb2136179c04317afb5da5bd')
    expect(hex(topicBytes('test-app', 'kitchen 🍳'))).toBe('5caf843af9834143a1c4ae17710250544ed43ee71285ec88045db3cb4744342f')
  })

  it('separates namespace and name, so ("a", "b\\0c") is not ("a\\0b", "c")', () => {
    expect(hex(topicBytes('a', 'bc'))).not.toBe(hex(topicBytes('ab', 'c')))
  })

  it('refuses an empty or overlong name with INVALID_CONFIG', async () => {
    expect(await codeOfCall(() => topicBytes('lifeline', ''))).toBe('INVALID_CONFIG')
    expect(await codeOfCall(() => topicBytes('', 'chat'))).toBe('INVALID_CONFIG')
    expect(await codeOfCall(() => topicBytes('lifeline', 'x'.repeat(MAX_ROOM_NAME_BYTES + 1)))).toBe('INVALID_CONFIG')
    expect(await codeOfCall(() => topicBytes('lifeline', 'x'.repeat(MAX_ROOM_NAME_BYTES)))).toBeUndefined()
  })
})

describe('roomTopic', () => {
  it('is the topic in lowercase hex, in the namespace peers use by default unless given one', () => {
    expect(DEFAULT_ROOM_NAMESPACE).toBe('lifeline')
    expect(roomTopic('chat')).toBe('754dd117081fafa023e2e7c647bc597fbb6d068ecb2136179c04317afb5da5bd')
    expect(roomTopic('kitchen 🍳', { namespace: 'test-app' })).toBe('5caf843af9834143a1c4ae17710250544ed43ee71285ec88045db3cb4744342f')
  })

  it('refuses what join() refuses, with INVALID_CONFIG', async () => {
    expect(await codeOfCall(() => roomTopic(''))).toBe('INVALID_CONFIG')
    expect(await codeOfCall(() => roomTopic('chat', { namespace: '' }))).toBe('INVALID_CONFIG')
  })
})
