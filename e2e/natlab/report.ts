/**
 * The matrix report. Each test records what it measured in a per-run JSON file (a
 * failed test restarts the worker, so module state would be lost); the global
 * teardown turns the file into docs/NAT-MATRIX.md.
 */
import { execFileSync } from 'node:child_process'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { NAT_MODES, NAT_MODE_DESCRIPTIONS } from './nat-rules.js'
import type { NatMode } from './nat-rules.js'
import { E2E_DIR } from './services.js'
import { RUN_ID } from './topology.js'

export interface Cell {
  a: NatMode
  b: NatMode
  /** Whether the NATs allow a direct path (what plain WebRTC and the SDK must show). */
  direct: boolean
  /**
   * The transport both peers must hold the relay on. `wss` cells give the peers both of
   * the relay's addresses (the SDK prefers WSS; UDP-blocked peers have nothing else);
   * `webrtc-direct` cells give only the WebRTC-Direct one, through the NATs.
   */
  relayVia: 'wss' | 'webrtc-direct'
}

/** The matrix, in report order. */
export const CELLS: readonly Cell[] = [
  { a: 'eim', b: 'eim', direct: true, relayVia: 'webrtc-direct' },
  { a: 'fullcone', b: 'symmetric', direct: true, relayVia: 'wss' },
  { a: 'eim', b: 'symmetric', direct: false, relayVia: 'wss' },
  { a: 'symmetric', b: 'symmetric', direct: false, relayVia: 'webrtc-direct' },
  { a: 'udpblock', b: 'eim', direct: false, relayVia: 'wss' },
  { a: 'udpblock', b: 'udpblock', direct: false, relayVia: 'wss' }
]

export function cellName (cell: Cell): string {
  return `${cell.a}/${cell.b}`
}

export interface SdkMeasurement {
  /** Both peers online and A's connect() resolved. */
  connected?: boolean | undefined
  /** A message went each way. */
  bothWays?: boolean | undefined
  /** A's view of the link's path at the end of the test. */
  finalPath?: string | undefined
  /** connect() called in A to the first message's arrival in B (same host clock). */
  firstMessageMs?: number | undefined
  /** connect() called in A to A's pathchange to direct. */
  directMs?: number | undefined
  /** The direct path's ICE candidate pairs, as each side sees them. */
  directPair?: string | undefined
  /** The transport each peer holds the relay on, e.g. `A wss, B wss`. */
  relayTransports?: string | undefined
  /** Bytes through the relay's ports (TCP 443, UDP 4443) while A sent 2 MB to B. */
  relayBytes?: number | undefined
  /** How long the link was watched staying relayed. */
  heldRelayedMs?: number | undefined
  /** RTCPeerConnections each page created by the end of the watch: the SDK's direct attempts. */
  webrtcAttempts?: string | undefined
  passed?: boolean | undefined
  error?: string | undefined
}

export interface ControlMeasurement {
  connected?: boolean | undefined
  /** From applying the answer to the data channel being open, or to giving up. */
  ms?: number | undefined
  /** ICE connection state at the end (when it did not connect). */
  state?: string | undefined
  /** Candidate types each side gathered, e.g. `host+srflx`. */
  gathered?: string | undefined
  /** The pair ICE chose when it connected. */
  pair?: string | undefined
  passed?: boolean | undefined
  error?: string | undefined
}

interface CellRecord {
  sdk?: SdkMeasurement
  control?: ControlMeasurement
}

type Store = Record<string, CellRecord>

const REPO_DIR = join(E2E_DIR, '..')
const REPORT_PATH = join(REPO_DIR, 'docs', 'NAT-MATRIX.md')

function storePath (): string {
  return join(tmpdir(), `lifeline-natlab-${RUN_ID}.json`)
}

async function readStore (): Promise<Store> {
  try {
    return JSON.parse(await readFile(storePath(), 'utf8')) as Store
  } catch {
    return {}
  }
}

/** Merge `part` into the cell's record (one worker at a time, so no lock is needed). */
export async function recordCell (cell: Cell, part: CellRecord): Promise<void> {
  const store = await readStore()
  const name = cellName(cell)
  const entry = store[name] ?? {}
  store[name] = {
    sdk: part.sdk ?? entry.sdk,
    control: part.control ?? entry.control
  } as CellRecord
  await writeFile(storePath(), JSON.stringify(store, null, 2))
}

function ms (value: number | undefined): string {
  return value === undefined ? '–' : `${Math.round(value)} ms`
}

function bytes (value: number | undefined): string {
  if (value === undefined) {
    return '–'
  }
  return value >= 100_000 ? `${(value / 1_000_000).toFixed(2)} MB` : `${(value / 1000).toFixed(1)} kB`
}

function connectedText (s: SdkMeasurement | undefined): string {
  if (s?.connected === undefined) {
    return '–'
  }
  if (!s.connected) {
    return 'no'
  }
  return s.bothWays === true ? 'yes' : 'connected, not both ways'
}

function controlText (c: ControlMeasurement | undefined): string {
  if (c === undefined || c.connected === undefined) {
    return c?.error === undefined ? 'not run' : `error: ${c.error}`
  }
  return c.connected
    ? `connected in ${ms(c.ms)} (${c.pair ?? '?'})`
    : `failed: ${c.state ?? '?'} after ${ms(c.ms)}, gathered ${c.gathered ?? '?'}`
}

function passText (record: CellRecord | undefined): string {
  const parts = [record?.sdk?.passed, record?.control?.passed]
  if (parts.includes(false)) {
    return '**FAIL**'
  }
  return parts.every((p) => p === true) ? 'pass' : 'incomplete'
}

/** How the matrix was started: the package script when run through pnpm. */
function command (): string {
  const script = process.env.npm_lifecycle_event
  if (script === 'test:natlab') {
    return '`pnpm --filter ./e2e run test:natlab`'
  }
  if (script === 'test') {
    return '`pnpm test:e2e` (the e2e package\'s `test` script: the two-namespace suite, then this matrix)'
  }
  return `\`cd e2e && npx playwright ${process.argv.slice(2).join(' ')}\``
}

function sdkState (): string {
  try {
    const head = execFileSync('git', ['-C', REPO_DIR, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['-C', REPO_DIR, 'status', '--porcelain', '--', 'packages/sdk', 'packages/relay'], { encoding: 'utf8' }).trim()
    return dirty === '' ? `commit ${head}` : `commit ${head} with uncommitted changes in packages/`
  } catch {
    return 'unknown (no git)'
  }
}

export function renderReport (store: Store, date: Date): string {
  const rows = CELLS.map((cell) => {
    const r = store[cellName(cell)]
    const s = r?.sdk
    const path = s?.finalPath ?? '–'
    const directNote = s?.directPair === undefined ? '' : ` (${s.directPair})`
    const attempts = s?.webrtcAttempts === undefined ? '' : `, RTCPeerConnections ${s.webrtcAttempts}`
    const held = s?.heldRelayedMs === undefined ? '' : ` (watched ${Math.round(s.heldRelayedMs / 1000)} s${attempts})`
    return `| ${cell.a} / ${cell.b} | ${cell.direct ? 'direct' : 'relayed'} | ${s?.relayTransports ?? '–'} | ${connectedText(s)} | ` +
      `${path}${held} | ${ms(s?.firstMessageMs)} | ${ms(s?.directMs)}${directNote} | ${bytes(s?.relayBytes)} | ` +
      `${controlText(r?.control)} | ${passText(r)} |`
  })
  const errors = CELLS.flatMap((cell) => {
    const r = store[cellName(cell)]
    return [['Lifeline', r?.sdk?.error], ['plain WebRTC', r?.control?.error]]
      .filter(([, error]) => error !== undefined)
      .map(([what, error]) => `- ${cellName(cell)}, ${what ?? ''}: ${(error ?? '').split('\n')[0] ?? ''}`)
  })
  return `# NAT matrix

Written by the NAT lab (\`e2e/natlab/\`, see its README) from its latest run. Do not edit by hand.

- Date: ${date.toISOString()}
- Command: ${command()}
- SDK and relay: ${sdkState()}

Browser A is behind router A (first NAT named), browser B behind router B. A calls
\`connect(B)\` through the relay on 198.51.100.10, which serves WSS on TCP 443 and WebRTC-Direct
on UDP 4443 ("relay via": the transport each page holds the relay on, chosen by the SDK
from both addresses, or WebRTC-Direct where only that address was given); both use coturn
on the relay host as STUN server. "First message": from \`connect()\` called in A to the message's
arrival in B. "Direct": from \`connect()\` to A's \`pathchange\` to direct, with the ICE pair A
uses. "Relay bytes": nftables counter on the relay's TCP 443 and UDP 4443, both directions, while A
sends 2 MB to B (relayed means ~2 x 2 MB: in from A, out to B). "Plain WebRTC": two raw
RTCPeerConnections with the same STUN server, signalled by the test, no relay fallback.
Where the link stays relayed, the path column also gives how many RTCPeerConnections each
page had created by the end of the watch (the SDK's direct attempts).

| NAT A / NAT B | expected | relay via | connected both ways | final path | first message | time to direct | relay bytes during 2 MB | plain WebRTC (negative control) | result |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}
${errors.length === 0 ? '' : `\nErrors:\n\n${errors.join('\n')}\n`}
NAT behaviours:

${NAT_MODES.map((mode) => `- \`${mode}\`: ${NAT_MODE_DESCRIPTIONS[mode]}`).join('\n')}
`
}

/** Write docs/NAT-MATRIX.md from this run's records, if any, and remove them. */
export async function writeMatrixReport (): Promise<void> {
  const store = await readStore()
  if (Object.keys(store).length === 0) {
    return
  }
  await mkdir(dirname(REPORT_PATH), { recursive: true })
  await writeFile(REPORT_PATH, renderReport(store, new Date()))
  await rm(storePath(), { force: true })
}
