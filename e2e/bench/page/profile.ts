/**
 * CPU profiles of a bench page while it measures, with Chromium's JS Self-Profiling API
 * (the bench server sends `Document-Policy: js-profiling`). Off unless the runner asks
 * (BENCH_PROFILE=1, the page's `profile` parameter); then the bulk transfer of each
 * throughput scenario (`bulk`) and Lifeline's connect() up to the first message
 * (`connect`) are profiled on both pages, and a summary of where the main
 * thread's time went is posted to the bench server, which prints it for the runner.
 * Built without minification then, so the functions keep their names.
 */
import type { ProfileSummary, Role, Scenario } from '../shared.js'

/** One sample per millisecond: 20 MB at a few MB/s is several thousand samples. */
const SAMPLE_INTERVAL_MS = 1
/** Samples kept; past this the profiler stops by itself (a minute at 1 ms). */
const MAX_SAMPLES = 60_000
/** Functions listed in a summary, by self time. */
const TOP_FUNCTIONS = 40
/** Callers named per listed function. */
const TOP_CALLERS = 3

interface ProfilerFrame { name: string, resourceId?: number, line?: number, column?: number }
interface ProfilerStack { frameId: number, parentId?: number }
interface ProfilerTrace {
  resources: string[]
  frames: ProfilerFrame[]
  stacks: ProfilerStack[]
  samples: Array<{ timestamp: number, stackId?: number }>
}
interface SelfProfiler { stop(): Promise<ProfilerTrace> }
type ProfilerConstructor = new (options: { sampleInterval: number, maxBufferSize: number }) => SelfProfiler

let enabled: { session: string, scenario: Scenario, role: Role } | undefined

export function enableProfiling (session: string, scenario: Scenario, role: Role): void {
  enabled = { session, scenario, role }
}

function frameName (trace: ProfilerTrace, frame: ProfilerFrame): string {
  const resource = frame.resourceId === undefined ? '' : (trace.resources[frame.resourceId] ?? '').split('/').pop() ?? ''
  return `${frame.name === '' ? '(anonymous)' : frame.name} (${resource}:${frame.line ?? 0})`
}

function summarize (trace: ProfilerTrace, scenario: Scenario, role: Role, phase: string): ProfileSummary {
  const self = new Map<string, number>()
  /** Per function, its callers' names and how often (the top functions' callers are reported). */
  const callers = new Map<string, Map<string, number>>()
  let idle = 0
  for (const sample of trace.samples) {
    const stack = sample.stackId === undefined ? undefined : trace.stacks[sample.stackId]
    const frame = stack === undefined ? undefined : trace.frames[stack.frameId]
    if (frame === undefined) {
      idle++
      continue
    }
    const name = frameName(trace, frame)
    self.set(name, (self.get(name) ?? 0) + 1)
    const parentStack = stack?.parentId === undefined ? undefined : trace.stacks[stack.parentId]
    const parent = parentStack === undefined ? undefined : trace.frames[parentStack.frameId]
    const byCaller = callers.get(name) ?? new Map<string, number>()
    callers.set(name, byCaller)
    const caller = parent === undefined ? '(top)' : frameName(trace, parent)
    byCaller.set(caller, (byCaller.get(caller) ?? 0) + 1)
  }
  const total = trace.samples.length
  const top = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, TOP_FUNCTIONS)
    .map(([fn, count]) => ({
      fn,
      self: count,
      percent: Math.round(count / Math.max(1, total) * 1000) / 10,
      callers: [...(callers.get(fn) ?? new Map<string, number>()).entries()].sort((a, b) => b[1] - a[1]).slice(0, TOP_CALLERS).map(([c, n]) => `${c} x${n}`)
    }))
  return { scenario, role, phase, samples: total, idleSamples: idle, sampleIntervalMs: SAMPLE_INTERVAL_MS, top }
}

/** Runs `work`, profiled as `phase` when the runner asked for profiles. */
export async function profiled<T> (phase: string, work: () => Promise<T>): Promise<T> {
  const Profiler = (globalThis as { Profiler?: ProfilerConstructor }).Profiler
  if (enabled === undefined) {
    return work()
  }
  if (Profiler === undefined) {
    throw new Error('profiling asked for, but this page has no JS Self-Profiling API (Document-Policy: js-profiling)')
  }
  const { session, scenario, role } = enabled
  const profiler = new Profiler({ sampleInterval: SAMPLE_INTERVAL_MS, maxBufferSize: MAX_SAMPLES })
  try {
    return await work()
  } finally {
    const summary = summarize(await profiler.stop(), scenario, role, phase)
    await fetch(`/profile/${encodeURIComponent(session)}`, { method: 'POST', body: JSON.stringify(summary) })
  }
}
