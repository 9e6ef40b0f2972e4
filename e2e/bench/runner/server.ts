/**
 * The bench server, run inside namespace A next to the relay:
 *   ip netns exec NS node server.js PAGE_DIR HOST PORT SOCKET
 *
 * It serves the bench page, lets the two pages of a session meet (a mailbox of
 * write-once keys; a read waits until the key is written), and prints what the pages
 * report as `result <session> <json>`, `error <session> <json>`,
 * `profile <session> <json>` (page/profile.ts) and
 * `fault <session> <json>` (a request to break something) lines for the runner, which
 * reads this process's stdout. The same routes are served on the Unix socket SOCKET:
 * the runner, outside the namespace, answers a fault request through the mailbox there.
 * Prints `listening <url>` once ready.
 */
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, join, normalize, sep } from 'node:path'

/** A mailbox read waits this long for its key, then answers 504. */
const READ_WAIT_MS = 45_000
/** Reports and mailbox values are small (peer IDs, SDP, timestamps, figures). */
const MAX_BODY_BYTES = 256 * 1024

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8'
}

const [root, host, port, socket] = process.argv.slice(2)
if (root === undefined || host === undefined || port === undefined || socket === undefined) {
  console.error('usage: server.js PAGE_DIR HOST PORT SOCKET')
  process.exit(2)
}
const rootDir = root.endsWith(sep) ? root : root + sep

const mailbox = new Map<string, string>()
const readers = new Map<string, Set<(value: string) => void>>()

function write (key: string, value: string): void {
  mailbox.set(key, value)
  for (const wake of readers.get(key) ?? []) {
    wake(value)
  }
  readers.delete(key)
}

function read (key: string, res: ServerResponse): void {
  const value = mailbox.get(key)
  if (value !== undefined) {
    res.writeHead(200, { 'content-type': 'text/plain' }).end(value)
    return
  }
  const waiting = readers.get(key) ?? new Set()
  readers.set(key, waiting)
  const wake = (found: string): void => {
    clearTimeout(timer)
    res.writeHead(200, { 'content-type': 'text/plain' }).end(found)
  }
  const timer = setTimeout(() => {
    waiting.delete(wake)
    res.writeHead(504).end(`nothing under ${key} within ${READ_WAIT_MS} ms`)
  }, READ_WAIT_MS)
  waiting.add(wake)
  res.once('close', () => {
    clearTimeout(timer)
    waiting.delete(wake)
  })
}

async function body (req: IncomingMessage): Promise<string> {
  let text = ''
  for await (const chunk of req) {
    text += String(chunk)
    if (text.length > MAX_BODY_BYTES) {
      throw new Error('request body too large')
    }
  }
  return text
}

async function serveFile (pathname: string, res: ServerResponse): Promise<void> {
  const file = join(rootDir, normalize(pathname.endsWith('/') ? `${pathname}index.html` : pathname))
  if (!file.startsWith(rootDir)) {
    res.writeHead(403).end()
    return
  }
  try {
    const content = await readFile(file)
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-store',
      // lets a page profile itself (page/profile.ts); costs nothing unless it does
      'document-policy': 'js-profiling',
      // cross-origin isolation lifts the profiler's 10 ms sampling floor to 1 ms; only
      // when profiling, since it changes the page (timer resolution, for one)
      ...(process.env.BENCH_PROFILE === '1' ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } : {})
    })
    res.end(content)
  } catch {
    res.writeHead(404).end()
  }
}

async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { pathname } = new URL(req.url ?? '/', 'http://bench')
  const [, kind, session, key] = pathname.split('/').map(decodeURIComponent)
  if (kind === 'mailbox' && session !== undefined && key !== undefined) {
    if (req.method === 'POST') {
      write(`${session}/${key}`, await body(req))
      res.writeHead(204).end()
    } else {
      read(`${session}/${key}`, res)
    }
    return
  }
  if ((kind === 'result' || kind === 'error' || kind === 'fault' || kind === 'profile') && session !== undefined && req.method === 'POST') {
    // One line per report: the runner parses JSON after the session.
    const report: unknown = JSON.parse(await body(req))
    console.log(`${kind} ${session} ${JSON.stringify(report)}`)
    res.writeHead(204).end()
    return
  }
  await serveFile(pathname, res)
}

function onRequest (req: IncomingMessage, res: ServerResponse): void {
  handle(req, res).catch((err: unknown) => {
    console.error(`${req.method ?? '?'} ${req.url ?? '?'}: ${String(err)}`)
    if (!res.headersSent) {
      res.writeHead(400)
    }
    res.end()
  })
}

const server = createServer(onRequest)
const local = createServer(onRequest)

Promise.all([
  new Promise<void>((resolve) => { server.listen(Number(port), host, resolve) }),
  new Promise<void>((resolve) => { local.listen(socket, resolve) })
]).then(() => {
  console.log(`listening http://${host}:${port}/`)
}, (err: unknown) => {
  console.error(`cannot listen: ${String(err)}`)
  process.exit(1)
})

process.on('SIGTERM', () => {
  for (const each of [server, local]) {
    each.close()
    each.closeAllConnections()
  }
  process.exit(0)
})
