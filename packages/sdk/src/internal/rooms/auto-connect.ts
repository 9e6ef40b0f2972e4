/**
 * `autoConnect`: a link to every member of a room. Both members run it, so only one
 * of them dials: the one whose peer ID string sorts lower (`dialsFirst`); the other
 * accepts the link. A dial that fails, or a link that closes while the member stays,
 * is tried again after a jittered backoff (AUTO_CONNECT_RETRY_*).
 */
import type { Logger } from '@libp2p/interface'
import { AUTO_CONNECT_RETRY_BASE_MS, AUTO_CONNECT_RETRY_MAX_MS } from '../../constants.js'
import type { Link } from '../../types.js'
import { backoffDelay } from '../util/backoff.js'

/** Whether `self` dials `remote` (true) or waits for its link (false). */
export function dialsFirst (self: string, remote: string): boolean {
  return self < remote
}

export interface AutoConnectComponents {
  self: string
  connect(peerId: string): Promise<Link>
  /** The link to `peerId` this peer has, open or opening. */
  link(peerId: string): Link | undefined
  /** Whether `peerId` is a member now. */
  isMember(peerId: string): boolean
  random(): number
  log: Logger
}

interface Dial {
  failures: number
  dialing: boolean
  timer?: ReturnType<typeof setTimeout> | undefined
}

export class AutoConnect {
  private readonly components: AutoConnectComponents
  private readonly dials = new Map<string, Dial>()
  private stopped = false

  constructor (components: AutoConnectComponents) {
    this.components = components
  }

  /** A member joined, or its link closed: dial it if it is ours to dial and no link is open. */
  consider (peerId: string): void {
    if (this.stopped || !dialsFirst(this.components.self, peerId) || !this.components.isMember(peerId)) {
      return
    }
    const open = this.components.link(peerId)
    const dial = this.dials.get(peerId) ?? { failures: 0, dialing: false }
    this.dials.set(peerId, dial)
    if ((open !== undefined && !open.closed) || dial.dialing || dial.timer !== undefined) {
      return
    }
    dial.dialing = true
    this.components.connect(peerId).then(() => {
      dial.failures = 0
    }, (err: unknown) => {
      dial.failures++
      this.components.log('auto-connect to %s failed (%d in a row) - %e', peerId, dial.failures, err)
      this.retryLater(peerId, dial)
    }).finally(() => {
      dial.dialing = false
    })
  }

  /** The link to a member closed: dial again after a backoff, if it is still a member. */
  linkClosed (peerId: string): void {
    const dial = this.dials.get(peerId)
    if (dial !== undefined && !this.stopped) {
      this.retryLater(peerId, dial)
    }
  }

  /** The member left: nothing more to do for it. */
  forget (peerId: string): void {
    clearTimeout(this.dials.get(peerId)?.timer)
    this.dials.delete(peerId)
  }

  stop (): void {
    this.stopped = true
    for (const peerId of [...this.dials.keys()]) {
      this.forget(peerId)
    }
  }

  private retryLater (peerId: string, dial: Dial): void {
    if (this.stopped || dial.timer !== undefined || this.dials.get(peerId) !== dial) {
      return
    }
    const delay = backoffDelay(Math.max(1, dial.failures), { baseMs: AUTO_CONNECT_RETRY_BASE_MS, maxMs: AUTO_CONNECT_RETRY_MAX_MS }, () => this.components.random())
    dial.timer = setTimeout(() => {
      dial.timer = undefined
      this.consider(peerId)
    }, delay)
  }
}
