/**
 * The relay's persistent identity. Peers pin a relay by its peer ID (the
 * `/p2p/<id>` part of its multiaddr), so the key must survive restarts: it is
 * kept in a file, created on first start and never overwritten afterwards.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { KEY_FILE_MODE } from './constants.js'
import { KeyFileError } from './errors.js'
import type { PrivateKey } from '@libp2p/interface'

export interface LoadedKey {
  privateKey: PrivateKey
  /** True when the file did not exist and a new key was written to it. */
  created: boolean
}

/**
 * Reads the protobuf-encoded private key at `path`, or creates an Ed25519 key
 * there (mode 0600) when the file does not exist.
 *
 * @throws KeyFileError (code `KEY_FILE_INVALID`) when the file cannot be read or
 * written, or does not hold a libp2p private key; the file is then left as it was
 */
export async function loadOrCreateKey (path: string): Promise<LoadedKey> {
  const existing = await readKeyFile(path)
  if (existing !== undefined) {
    return { privateKey: parseKey(existing, path), created: false }
  }

  const privateKey = await generateKeyPair('Ed25519')
  try {
    // 'wx' fails if the file appeared since we looked, so a racing process's key is never replaced
    await writeFile(path, privateKeyToProtobuf(privateKey), { mode: KEY_FILE_MODE, flag: 'wx' })
  } catch (err: unknown) {
    if (errorCode(err) === 'EEXIST') {
      return loadOrCreateKey(path)
    }
    throw new KeyFileError(`cannot create key file ${path}: ${describe(err)}`, { cause: err })
  }
  return { privateKey, created: true }
}

async function readKeyFile (path: string): Promise<Uint8Array | undefined> {
  try {
    return await readFile(path)
  } catch (err: unknown) {
    if (errorCode(err) === 'ENOENT') {
      return undefined
    }
    throw new KeyFileError(`cannot read key file ${path}: ${describe(err)}`, { cause: err })
  }
}

function parseKey (bytes: Uint8Array, path: string): PrivateKey {
  try {
    return privateKeyFromProtobuf(bytes)
  } catch (err: unknown) {
    // the parser's message may quote the file's bytes, so it is kept only as `cause`
    throw new KeyFileError(
      `key file ${path} does not hold a libp2p private key; it was left untouched. ` +
      'Point --key at the right file, or move this one away to start with a new peer ID',
      { cause: err }
    )
  }
}

function errorCode (err: unknown): unknown {
  return typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined
}

function describe (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
