import { describe, expect, it } from 'vitest'
import { sourceOf } from './source.js'

describe('the source a connection counts against', () => {
  it('is the address itself for IPv4', () => {
    expect(sourceOf('203.0.113.7')).toBe('203.0.113.7')
    expect(sourceOf('203.0.113.8')).not.toBe(sourceOf('203.0.113.7'))
  })

  it('is the IPv4 address inside an IPv4-mapped IPv6 address, as dual-stack sockets report it', () => {
    expect(sourceOf('::ffff:203.0.113.7')).toBe('203.0.113.7')
    expect(sourceOf('::FFFF:203.0.113.7')).toBe('203.0.113.7')
    // the same peer over an IPv4 and a dual-stack socket is one source
    expect(sourceOf('::ffff:203.0.113.7')).toBe(sourceOf('203.0.113.7'))
  })

  it('is the /64 prefix for IPv6, so one host rotating its addresses stays one source', () => {
    expect(sourceOf('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64')
    expect(sourceOf('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64')
    expect(sourceOf('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64')
  })

  it('tells apart IPv6 addresses in different /64 networks', () => {
    expect(sourceOf('2001:db8:1:3::1')).not.toBe(sourceOf('2001:db8:1:2::1'))
    expect(sourceOf('2001:db8:2:2::1')).not.toBe(sourceOf('2001:db8:1:2::1'))
  })

  it('names one /64 the same way whatever the spelling: zero compression, leading zeros, case', () => {
    const canonical = sourceOf('2001:db8:0:0:1:2:3:4')
    expect(canonical).toBe('2001:db8:0:0::/64')
    expect(sourceOf('2001:db8::1')).toBe(canonical)
    expect(sourceOf('2001:0DB8:0000:0000::abcd')).toBe(canonical)
    expect(sourceOf('2001:DB8::')).toBe(canonical)
  })

  it('fills in a compressed run at the start or in the prefix', () => {
    expect(sourceOf('::1')).toBe('0:0:0:0::/64')
    expect(sourceOf('::')).toBe('0:0:0:0::/64')
    expect(sourceOf('2001::5:6:7:8')).toBe('2001:0:0:0::/64')
    expect(sourceOf('2001:db8:a::b:c:d:e')).toBe('2001:db8:a:0::/64')
  })

  it('ignores a zone id, so a link-local peer on one interface is one source', () => {
    expect(sourceOf('fe80::1%eth0')).toBe('fe80:0:0:0::/64')
    expect(sourceOf('fe80::2%eth0')).toBe(sourceOf('fe80::1%eth1'))
  })

  it('counts connections with no address together as "unknown"', () => {
    expect(sourceOf(undefined)).toBe('unknown')
    expect(sourceOf('')).toBe('unknown')
  })

  it('keeps anything that is not an IP address as it is', () => {
    expect(sourceOf('relay.example')).toBe('relay.example')
    expect(sourceOf('1.2.3')).toBe('1.2.3')
  })
})
