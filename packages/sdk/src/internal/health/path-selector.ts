/**
 * Which path a link sends on. Direct paths are the primary tier and relayed paths the
 * backup tier: moving between tiers happens at once (a usable direct path always wins,
 * a dead one is left at once); inside a tier the link moves only for a clear RTT gain,
 * so two similar paths do not flap (iroh's biased RTT path selector does the same).
 */
import type { LinkPath } from '../../types.js'

export interface Candidate {
  id: string
  tier: LinkPath
  /** Smoothed RTT, undefined until measured. */
  rttMs: number | undefined
}

/** A path inside the same tier must be this much faster, relatively and absolutely. */
export const SWITCH_MIN_GAIN_RATIO = 0.2
export const SWITCH_MIN_GAIN_MS = 5

function rank (tier: LinkPath): number {
  return tier === 'direct' ? 0 : 1
}

function clearlyFaster (candidate: Candidate, current: Candidate): boolean {
  if (candidate.rttMs === undefined || current.rttMs === undefined) {
    return false
  }
  const gain = current.rttMs - candidate.rttMs
  return gain > SWITCH_MIN_GAIN_MS && gain > current.rttMs * SWITCH_MIN_GAIN_RATIO
}

/** Pick the path to send on from the live candidates, given the current one's id. */
export function selectPath (candidates: readonly Candidate[], currentId: string | undefined): Candidate | undefined {
  let best: Candidate | undefined
  for (const c of candidates) {
    if (best === undefined || rank(c.tier) < rank(best.tier) ||
      (rank(c.tier) === rank(best.tier) && (c.rttMs ?? Infinity) < (best.rttMs ?? Infinity))) {
      best = c
    }
  }
  const current = candidates.find(c => c.id === currentId)
  if (best === undefined || current === undefined || rank(best.tier) !== rank(current.tier)) {
    return best
  }
  return clearlyFaster(best, current) ? best : current
}
