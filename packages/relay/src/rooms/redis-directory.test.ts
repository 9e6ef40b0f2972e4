import { describe, expect, it } from 'vitest'
import { describeRedisUrl } from './redis-directory.js'

describe('describeRedisUrl', () => {
  it('names the Redis host for logs without its user or password', () => {
    expect(describeRedisUrl('rediss://admin:hunter2@redis.example.com:6380/2')).toBe('rediss://redis.example.com:6380/2')
    expect(describeRedisUrl('redis://:hunter2@127.0.0.1:6379')).toBe('redis://127.0.0.1:6379')
    expect(describeRedisUrl('not a url hunter2')).not.toContain('hunter2')
  })
})
