import { writer } from 'protons-runtime'
import { describe, expect, it } from 'vitest'
import { hopCodec } from './hop.js'

describe('hopCodec', () => {
  it('encodes a RESERVE request as its type field', () => {
    expect([...hopCodec.encode({ type: 0, addrs: [] })]).toEqual([8, 0])
  })

  it('decodes a relay status with reservation and limit, skipping fields it does not use', () => {
    const reservation = writer().uint32(8).uint64(1_800_000_000n).uint32(18).bytes(new Uint8Array([4, 127, 0, 0, 1])).finish()
    const limit = writer().uint32(8).uint32(120).uint32(16).uint64(131_072n).finish()
    const peer = writer().uint32(10).bytes(new Uint8Array([1, 2, 3])).finish()
    const message = writer()
      .uint32(8).uint32(2)
      .uint32(18).bytes(peer)
      .uint32(26).bytes(reservation)
      .uint32(34).bytes(limit)
      .uint32(40).uint32(100)
      .finish()
    expect(hopCodec.decode(message)).toEqual({
      type: 2,
      status: 100,
      expire: 1_800_000_000n,
      addrs: [new Uint8Array([4, 127, 0, 0, 1])],
      limitSeconds: 120,
      limitBytes: 131_072n
    })
  })

  it('rejects a truncated message', () => {
    expect(() => hopCodec.decode(new Uint8Array([26, 10, 8]))).toThrow()
  })
})
