/**
 * Whether a held relay is alive, slow or dead, judged from its pings. One ping that
 * goes unanswered is not a dead relay: its pong may be queued behind bulk data, or
 * lost in a burst, so the relay is only `slow`; `missesToDead` in a row make it dead.
 * And a timeout that fired late says more about this page than about the relay: a GC
 * pause or a long task blocked the event loop, the pong may be waiting right behind
 * the timer, so such a miss is not counted. Nor is one while link data was arriving:
 * through the relay itself, since a relay that delivers bytes is alive and its pong is
 * queued behind them (measured in the e2e health test: a page receiving a relayed bulk
 * transfer on a loaded machine saw three 1 s ping timeouts in a row while data kept
 * arriving through that relay), or on any other path, since this page is then busy
 * receiving and the pong waits behind that work (the same test, with both cores busy:
 * three 1 s timeouts in a row from the other relay, whose pongs had come back in about
 * 50 ms). A relay that falls silent during a transfer is judged once the transfer
 * pauses; the second reservation keeps the peer reachable meanwhile, and each link's
 * paths are watched by their own pings. A busy machine or a busy relay is not a dead
 * relay. Pure: the pool tells it what happened and how late each timeout fired.
 */

export type RelayLivenessVerdict = 'alive' | 'slow' | 'dead'

export interface RelayLivenessInit {
  /** Unanswered pings in a row that make a relay dead. */
  missesToDead: number
  /** A timeout that fired more than this late ran on a blocked event loop. */
  lateTimerMs: number
}

export class RelayLiveness {
  private readonly init: RelayLivenessInit
  private misses = 0

  constructor (init: RelayLivenessInit) {
    this.init = init
  }

  get verdict (): RelayLivenessVerdict {
    if (this.misses === 0) {
      return 'alive'
    }
    return this.misses < this.init.missesToDead ? 'slow' : 'dead'
  }

  /** A pong came back: the relay is alive, whatever came before. */
  answered (): void {
    this.misses = 0
  }

  /**
   * A ping failed or timed out; `lateByMs` is how long after its deadline the
   * failure was seen (negative when it failed early), `forwardedMeanwhile` whether
   * link data arrived (through the relay, or on any path) between the ping and its failure.
   */
  missed (lateByMs: number, forwardedMeanwhile = false): RelayLivenessVerdict {
    if (lateByMs <= this.init.lateTimerMs && !forwardedMeanwhile) {
      this.misses++
    }
    return this.verdict
  }

  /** A new connection to the relay starts with a clean slate. */
  reset (): void {
    this.misses = 0
  }
}
