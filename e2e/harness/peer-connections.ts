/**
 * Counts the page's RTCPeerConnections, so a test can tell a fresh WebRTC dial from a
 * reused connection and see that closing a link really closes its connection.
 *
 * Imported before '@lifeline/sdk': @libp2p/webrtc reads `globalThis.RTCPeerConnection`
 * when its module loads, so the counting subclass must be in place by then.
 */
import type { PeerConnectionCount } from './api.js'

const Native = globalThis.RTCPeerConnection
const live = new Set<RTCPeerConnection>()
let created = 0

class CountingPeerConnection extends Native {
  constructor (configuration?: RTCConfiguration) {
    super(configuration)
    created += 1
    live.add(this)
    this.addEventListener('connectionstatechange', () => {
      if (this.connectionState === 'closed' || this.connectionState === 'failed') {
        live.delete(this)
      }
    })
  }

  override close (): void {
    live.delete(this)
    super.close()
  }
}

globalThis.RTCPeerConnection = CountingPeerConnection

export function peerConnectionCount (): PeerConnectionCount {
  return { created, open: live.size }
}
