/**
 * `pnpm demo` (after `pnpm build`): starts a local relay with the real relay CLI,
 * builds the demo app, writes the relay's address to its relays.json and serves it
 * with `vite preview`. Ctrl-C stops everything; if either child fails, the demo ends
 * with a message and a non-zero exit code.
 *
 * Environment: LIFELINE_RELAY_PORT (default 4001), LIFELINE_DEMO_PORT (default 5173).
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const HOST = '127.0.0.1'
const RELAY_PORT = process.env.LIFELINE_RELAY_PORT ?? '4001'
const DEMO_PORT = process.env.LIFELINE_DEMO_PORT ?? '5173'
const RELAY_CLI = join(ROOT, 'packages/relay/dist/cli.js')
const RELAY_KEY = join(ROOT, '.lifeline/relay.key')
const SDK_ENTRY = join(ROOT, 'packages/sdk/dist/index.js')
const APP_DIR = join(ROOT, 'packages/demo-app')
const VITE = join(APP_DIR, 'node_modules/vite/bin/vite.js')
const DEMO_URL = `http://${HOST}:${DEMO_PORT}/`

/** The relay starts a libp2p node; even a slow machine prints its addresses well within this. */
const RELAY_START_TIMEOUT_MS = 30_000
/** The relay prints all its addresses at once; this much quiet after one means it is done. */
const ADDRESS_SETTLE_MS = 200
const PREVIEW_START_TIMEOUT_MS = 30_000
const PREVIEW_POLL_MS = 200
/** How long children get to exit after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 5_000

/** Running children, each in its own process group so only this script forwards signals to them. */
const children = new Set()
let stopping = false

function log (message) {
  console.log(`demo: ${message}`)
}

/** Starts `node <args>`; a failure of a long-running child ends the demo. */
function startNode (name, args, { cwd = ROOT, stdout = 'inherit', longRunning = false, hint = '' } = {}) {
  if (stopping) {
    throw new Error(`not starting ${name}: the demo is stopping`)
  }
  const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', stdout, 'inherit'], detached: true })
  children.add(child)
  child.exited = new Promise(resolve => {
    child.once('exit', (code, signal) => {
      children.delete(child)
      resolve({ code, signal })
      if (longRunning && !stopping) {
        void fail(`${name} exited unexpectedly (${signal ?? `exit code ${code}`}). ${hint}`.trim())
      }
    })
  })
  child.once('error', err => { void fail(`could not start ${name}: ${err.message}`) })
  return child
}

function signalGroup (child, signal) {
  try {
    process.kill(-child.pid, signal)
  } catch {
    // already gone
  }
}

async function stopChildren (signal) {
  const running = [...children]
  for (const child of running) {
    signalGroup(child, signal)
  }
  const timer = setTimeout(() => { for (const child of running) signalGroup(child, 'SIGKILL') }, STOP_GRACE_MS)
  await Promise.all(running.map(child => child.exited))
  clearTimeout(timer)
}

async function shutdown (signal) {
  if (stopping) {
    // A second Ctrl-C: do not wait any longer
    for (const child of children) signalGroup(child, 'SIGKILL')
    process.exit(130)
  }
  stopping = true
  log('stopping…')
  await stopChildren(signal)
  process.exit(0)
}

async function fail (message) {
  if (stopping) {
    return
  }
  stopping = true
  console.error(`\ndemo: ${message}`)
  await stopChildren('SIGTERM')
  process.exit(1)
}

process.on('SIGINT', () => { void shutdown('SIGINT') })
process.on('SIGTERM', () => { void shutdown('SIGTERM') })
// Last resort (an exception in this script): never leave a child behind
process.on('exit', () => { for (const child of children) signalGroup(child, 'SIGKILL') })

async function buildApp () {
  log('building the demo app…')
  const build = startNode('vite build', [VITE, 'build', '--logLevel', 'warn'], { cwd: APP_DIR })
  const { code, signal } = await build.exited
  if (code !== 0 && !stopping) {
    throw new Error(`vite build failed (${signal ?? `exit code ${code}`})`)
  }
}

/** Starts the relay and resolves with the multiaddrs it prints on stdout. */
async function startRelay () {
  await mkdir(dirname(RELAY_KEY), { recursive: true })
  log(`starting the relay on ${HOST}:${RELAY_PORT} (key ${relative(ROOT, RELAY_KEY)})…`)
  const relay = startNode('the relay', [
    RELAY_CLI, '--host', HOST, '--port', RELAY_PORT, '--key', RELAY_KEY
  ], { stdout: 'pipe', longRunning: true, hint: 'See its output above; LIFELINE_RELAY_PORT picks another port.' })

  const addresses = []
  return new Promise((resolve, reject) => {
    let settle
    const timeout = setTimeout(() => {
      reject(new Error(`the relay printed no address within ${RELAY_START_TIMEOUT_MS / 1000} s`))
    }, RELAY_START_TIMEOUT_MS)
    createInterface({ input: relay.stdout }).on('line', line => {
      if (!line.startsWith('/')) {
        console.log(`[relay] ${line}`)
        return
      }
      if (settle === undefined && addresses.length > 0) {
        console.log(`[relay] ${line}`)
        return
      }
      addresses.push(line.trim())
      clearTimeout(settle)
      settle = setTimeout(() => {
        clearTimeout(timeout)
        settle = undefined
        resolve(addresses)
      }, ADDRESS_SETTLE_MS)
    })
  })
}

/** Resolves once the preview server answers; a preview that exits first ends the demo through its exit handler. */
async function waitForPreview () {
  const deadline = Date.now() + PREVIEW_START_TIMEOUT_MS
  while (Date.now() < deadline) {
    const response = await fetch(new URL('relays.json', DEMO_URL)).catch(() => undefined)
    if (response?.ok === true) {
      return
    }
    await new Promise(resolve => setTimeout(resolve, PREVIEW_POLL_MS))
  }
  throw new Error(`vite preview did not answer on ${DEMO_URL} within ${PREVIEW_START_TIMEOUT_MS / 1000} s`)
}

async function main () {
  for (const [file, what] of [[RELAY_CLI, 'the relay'], [SDK_ENTRY, 'the SDK']]) {
    if (!existsSync(file)) {
      throw new Error(`${relative(ROOT, file)} is missing: build ${what} first (\`pnpm build\`, or run \`pnpm demo\`)`)
    }
  }
  await buildApp()

  const addresses = await startRelay()
  // A browser dials the relay over WebSockets
  const relay = addresses.find(a => /\/wss?\/p2p\//.test(a))
  if (relay === undefined) {
    throw new Error(`the relay printed no WebSocket address (got: ${addresses.join(', ')})`)
  }
  await writeFile(join(APP_DIR, 'dist/relays.json'), `${JSON.stringify([relay], null, 2)}\n`)

  startNode('vite preview', [
    VITE, 'preview', '--host', HOST, '--port', DEMO_PORT, '--strictPort', '--logLevel', 'warn'
  ], { cwd: APP_DIR, longRunning: true, hint: 'See its output above; LIFELINE_DEMO_PORT picks another port.' })
  await waitForPreview()

  console.log(`
Lifeline demo is running.

  Demo URL:  ${DEMO_URL}#room=demo
  Relay:     ${relay}

Open the URL in two browser tabs or windows: both join room "demo" (any name after
#room= makes a room; "Invite link" shows it), see each other, chat, and send files.
Press Ctrl-C to stop.
`)
}

main().catch(err => { void fail(err instanceof Error ? err.message : String(err)) })
