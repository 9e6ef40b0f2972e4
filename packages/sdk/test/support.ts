/**
 * What the SDK's tests share: peers started for a test and stopped after it, and the
 * error code a call failed with.
 */
import { createPeer, isLifelineError, type Peer, type PeerInit } from '../src/index.js'

/** Peers started with `startPeer()`, for the test file to stop afterwards. */
export class TestPeers {
  readonly started: Peer[] = []

  /** A started peer that holds a reservation, on loopback relays, relayed only unless told. */
  async start (init: PeerInit): Promise<Peer> {
    const peer = await createPeer({ allowPrivateAddresses: true, direct: false, ...init })
    this.started.push(peer)
    await peer.start()
    await peer.online()
    return peer
  }

  async stopAll (): Promise<void> {
    await Promise.all(this.started.splice(0).map(async p => { await p.stop() }))
  }
}

/** The code of the LifelineError `promise` rejects with; undefined if it resolves. */
export async function codeOf (promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise
  } catch (err) {
    return isLifelineError(err) ? err.code : `not a LifelineError: ${String(err)}`
  }
  return undefined
}
