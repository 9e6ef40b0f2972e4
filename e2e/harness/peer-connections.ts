/**
 * Counts the page's RTCPeerConnections, so a test can tell a fresh WebRTC dial from a
 * reused connection and see that closing a link really closes its connection.
 *
 * Imported before '@lifeline/sdk': @libp2p/webrtc reads `globalThis.RTCPeerConnection`
 * when its module loads, so the counting subclass must be in place by then.
 */
import type { CandidatePairRecord, CandidateRecord, PeerConnectionCount } from './api.js'

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

function candidate (report: Record<string, unknown> | undefined): CandidateRecord {
  return {
    type: String(report?.candidateType),
    address: String(report?.address),
    port: Number(report?.port)
  }
}

/** The candidate pair each open connection uses: tells a NAT-crossing path from a LAN one. */
export async function selectedCandidatePairs (): Promise<CandidatePairRecord[]> {
  const pairs: CandidatePairRecord[] = []
  for (const pc of live) {
    const byId = new Map<string, Record<string, unknown>>()
    ;(await pc.getStats()).forEach((report: Record<string, unknown>) => { byId.set(String(report.id), report) })
    for (const report of byId.values()) {
      if (report.type === 'transport' && typeof report.selectedCandidatePairId === 'string') {
        const pair = byId.get(report.selectedCandidatePairId)
        pairs.push({
          local: candidate(byId.get(String(pair?.localCandidateId))),
          remote: candidate(byId.get(String(pair?.remoteCandidateId)))
        })
      }
    }
  }
  return pairs
}
