import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isRelayError } from './errors.js'
import { loadOrCreateKey } from './key.js'

let dir: string

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lifeline-relay-key-'))
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function keyErrorOf (path: string): Promise<string> {
  try {
    await loadOrCreateKey(path)
  } catch (err: unknown) {
    expect(isRelayError(err, 'KEY_FILE_INVALID')).toBe(true)
    return err instanceof Error ? err.message : String(err)
  }
  throw new Error('expected the key file to be rejected')
}

describe('loadOrCreateKey', () => {
  it('creates an Ed25519 key readable only by its owner', async () => {
    const path = join(dir, 'relay.key')
    const { privateKey, created } = await loadOrCreateKey(path)
    expect(created).toBe(true)
    expect(privateKey.type).toBe('Ed25519')
    expect((await stat(path)).mode & 0o777).toBe(0o600)
  })

  it('loads the same key on the next start', async () => {
    const path = join(dir, 'relay.key')
    const first = await loadOrCreateKey(path)
    const second = await loadOrCreateKey(path)
    expect(second.created).toBe(false)
    expect(second.privateKey.equals(first.privateKey)).toBe(true)
  })

  it('rejects a corrupt key file and leaves it untouched', async () => {
    const path = join(dir, 'relay.key')
    await writeFile(path, 'not a key\n')
    expect(await keyErrorOf(path)).toMatch(/does not hold a libp2p private key; it was left untouched/)
    expect(await readFile(path, 'utf8')).toBe('not a key\n')
  })

  it('rejects an empty key file rather than replacing it', async () => {
    const path = join(dir, 'relay.key')
    await writeFile(path, '')
    expect(await keyErrorOf(path)).toMatch(/does not hold a libp2p private key/)
    expect((await stat(path)).size).toBe(0)
  })

  it('reports a key path that cannot be read', async () => {
    expect(await keyErrorOf(dir)).toMatch(/^cannot read key file .*EISDIR/)
  })

  it('reports a key path that cannot be created', async () => {
    expect(await keyErrorOf(join(dir, 'missing', 'relay.key'))).toMatch(/^cannot create key file .*ENOENT/)
  })
})
