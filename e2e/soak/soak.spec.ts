/**
 * Soak: A sends a small numbered message every 50 ms to B for SOAK_MS (3 min by
 * default) over a relayed link (SOAK_PATH=relayed, both peers `direct: false`) or a
 * direct one (SOAK_PATH=direct), optionally with a CPU hog (SOAK_HOG=1). It logs every
 * gap over 300 ms between two arrivals at B, every stall of either page's event loop
 * over 300 ms and every long task, each with its time since that page started, so a
 * stall that comes back at a fixed period (a timer of some layer) shows as a column
 * of equal remainders. It asserts only that every message arrived once, in order.
 */
import { expect, test } from '../lab/fixtures.js'
import type { HarnessPage } from '../lab/harness-client.js'
import { checkNumbered, longestGap } from '../lab/fault-steps.js'
import { CONNECT_TIMEOUT_MS, expectDirect, expectOk } from '../lab/steps.js'

const SOAK_MS = Math.min(Number(process.env.SOAK_MS ?? 180_000), 10 * 60_000)
const PATH = process.env.SOAK_PATH === 'direct' ? 'direct' : 'relayed'
const HOG = process.env.SOAK_HOG === '1'
/** One message every this many ms (plus the time send() takes). */
const INTERVAL_MS = 50
/** Gaps, event-loop stalls and long tasks longer than this are logged. */
const REPORT_OVER_MS = 300
/** A period to test the stalls against: the 30 s of the original report. */
const SUSPECT_PERIOD_MS = 30_000
const DRAIN_WITHIN_MS = 60_000

interface Stall {
  /** ms since the page started (performance.now()). */
  at: number
  ms: number
  kind: string
}

declare global {
  interface Window {
    soakStalls?: Stall[]
  }
}

/** Record event-loop stalls (a 50 ms timer firing late) and long tasks in the page. */
async function watchPage (peer: HarnessPage): Promise<void> {
  await peer.page.evaluate(([tick, over]) => {
    const stalls: Stall[] = []
    window.soakStalls = stalls
    let last = performance.now()
    setInterval(() => {
      const now = performance.now()
      if (now - last - tick > over) {
        stalls.push({ at: last, ms: Math.round(now - last - tick), kind: 'event loop' })
      }
      last = now
    }, tick)
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        if (entry.duration > over) {
          stalls.push({ at: entry.startTime, ms: Math.round(entry.duration), kind: 'long task' })
        }
      }
    }).observe({ type: 'longtask', buffered: true })
  }, [INTERVAL_MS, REPORT_OVER_MS] as const)
}

function describe (stalls: Stall[]): string {
  return stalls.map((s) => `  +${(s.at / 1000).toFixed(1)} s (mod 30 s: ${((s.at % SUSPECT_PERIOD_MS) / 1000).toFixed(1)}) ${s.kind} ${s.ms} ms`).join('\n') || '  none'
}

test(`soak: a message every ${INTERVAL_MS} ms for ${SOAK_MS / 1000} s over a ${PATH} link${HOG ? ' with a CPU hog' : ''}`,
  async ({ relay, cpuHogs, a, b }) => {
    test.setTimeout(SOAK_MS + 3 * 60_000)
    const direct = PATH === 'direct'
    await Promise.all([a.start([relay.multiaddr], direct), b.start([relay.multiaddr], direct)])
    expectOk(await a.connect(b.peerId, CONNECT_TIMEOUT_MS), 'A connects to B')
    if (PATH === 'direct') {
      await expectDirect(a, b)
    }
    await Promise.all([watchPage(a), watchPage(b)])
    if (HOG) {
      cpuHogs.start()
    }
    const count = Math.ceil(SOAK_MS / INTERVAL_MS)
    const startedAt = Date.now()
    await a.startNumbered(b.peerId, { count, pauseEvery: 1, pauseMs: INTERVAL_MS })
    await expect.poll(async () => (await a.numberedProgress(b.peerId)).done, { timeout: SOAK_MS * 2, intervals: [5000] }).toBe(true)
    await expect.poll(async () => (await b.received(a.peerId)).length, { timeout: DRAIN_WITHIN_MS }).toBe(count)
    const took = Date.now() - startedAt

    const originB = await b.page.evaluate(() => performance.timeOrigin)
    const times = await b.receivedTimes(a.peerId)
    const gaps: Stall[] = []
    for (let i = 1; i < times.length; i++) {
      const gap = (times[i] ?? 0) - (times[i - 1] ?? 0)
      if (gap > REPORT_OVER_MS) {
        gaps.push({ at: (times[i - 1] ?? 0) - originB, ms: gap, kind: `gap before message ${i + 1}` })
      }
    }
    const longest = longestGap(times)
    const stallsA = await a.page.evaluate(() => window.soakStalls ?? [])
    const stallsB = await b.page.evaluate(() => window.soakStalls ?? [])
    const notReserved = [...await a.relayEvents(), ...await b.relayEvents()].filter((e) => e.at >= startedAt && e.state !== 'reserved')
    const changes = await a.pathChanges(b.peerId)
    console.log([
      `soak over a ${PATH} link${HOG ? ' with a CPU hog' : ''}: ${count} messages in ${(took / 1000).toFixed(0)} s; ` +
        `${gaps.length} gaps over ${REPORT_OVER_MS} ms at B, ${stallsA.length} stalls in A, ${stallsB.length} in B; ` +
        `relay left reserved ${notReserved.length} times; path changes at A: ${changes.length}; ` +
        `longest gap ${longest.ms} ms at +${((longest.from - originB) / 1000).toFixed(1)} s`,
      `gaps at B (time since B's page started):\n${describe(gaps)}`,
      `stalls in A:\n${describe(stallsA)}`,
      `stalls in B:\n${describe(stallsB)}`
    ].join('\n'))
    expect(checkNumbered(await b.received(a.peerId), count), 'B received every message once, in order').toBe('ok')
  })
