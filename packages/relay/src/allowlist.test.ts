import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadAllowlist, parseAllowlist } from './allowlist.js'
import { isRelayError } from './errors.js'

const A = '12D3KooWHFrmLWTTDD4NodngtRMEVYtDGW3mcpGXNzJZeRTMM4Aw'
const B = '12D3KooWRvKxy16gGU3gmxRSXoaY8xqWEGEvASgS43gR1BSxs4dk'

function errorOf (fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  return undefined
}

describe('the allowed-peers file', () => {
  it('reads one peer ID per line, skipping blank lines and comments', () => {
    expect(parseAllowlist(`# team relay\n${A}\n\n  ${B}  # laptop\n`, 'peers.txt')).toEqual(new Set([A, B]))
  })

  it('names the file and line of a bad entry', () => {
    const err = errorOf(() => parseAllowlist(`${A}\nnot-a-peer\n`, 'peers.txt'))
    expect(isRelayError(err, 'CONFIG_INVALID')).toBe(true)
    expect((err as Error).message).toBe('peers.txt:2: "not-a-peer" is not a peer ID')
  })

  it('refuses a file that would shut everybody out', () => {
    expect(isRelayError(errorOf(() => parseAllowlist('# nobody\n', 'peers.txt')), 'CONFIG_INVALID')).toBe(true)
  })

  it('loads the file, and reports an unreadable one as a configuration error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'allowlist-'))
    writeFileSync(join(dir, 'peers.txt'), `${A}\n`)
    expect(await loadAllowlist(join(dir, 'peers.txt'))).toEqual(new Set([A]))
    await expect(loadAllowlist(join(dir, 'missing.txt'))).rejects.toMatchObject({ code: 'CONFIG_INVALID' })
  })
})
