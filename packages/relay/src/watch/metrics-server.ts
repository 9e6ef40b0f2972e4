/**
 * The operator's door, apart from the public one: `GET /metrics` (Prometheus text)
 * and `GET /healthz` (200 while the relay serves, 503 while it starts or stops) on
 * their own HTTP server and address (`--metrics HOST:PORT`), so the public
 * listener never answers anything but WebSockets and what a scrape reveals stays on
 * the network the operator chose.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { METRICS_CLOSE_GRACE_MS, METRICS_MAX_CONNECTIONS, METRICS_MAX_HEADER_BYTES, METRICS_REQUEST_TIMEOUT_MS } from '../constants.js'
import type { ListenAddress } from '../config.js'

export interface MetricsServerComponents {
  /** The exposition text and its content type. */
  metrics: { contentType: string, render(): Promise<string> }
  /** True while the relay is listening and serving. */
  ready(): boolean
}

export interface MetricsServer {
  /** `http://HOST:PORT`, with the real port when 0 was asked for. */
  url: string
  close(): Promise<void>
}

/**
 * Starts the server on `address`.
 *
 * @throws the listen error (such as EADDRINUSE) with the address in its message
 */
export async function startMetricsServer (address: ListenAddress, components: MetricsServerComponents): Promise<MetricsServer> {
  const server = createServer({
    maxHeaderSize: METRICS_MAX_HEADER_BYTES,
    headersTimeout: METRICS_REQUEST_TIMEOUT_MS,
    requestTimeout: METRICS_REQUEST_TIMEOUT_MS
  }, (req, res) => { handle(req, res, components) })
  server.maxConnections = METRICS_MAX_CONNECTIONS
  // a malformed request or a reset affects that socket only
  server.on('clientError', (_err, socket) => { socket.destroy() })

  await listen(server, address)
  const bound = server.address()
  const port = bound !== null && typeof bound === 'object' ? bound.port : address.port
  const host = address.host.includes(':') ? `[${address.host}]` : address.host
  return {
    url: `http://${host}:${port}`,
    close: async () => new Promise<void>(resolve => {
      // idle connections close now; a request in flight (a health check that came
      // as the relay began to stop) gets its answer, or is cut after the grace period
      const grace = setTimeout(() => { server.closeAllConnections() }, METRICS_CLOSE_GRACE_MS)
      server.close(() => {
        clearTimeout(grace)
        resolve()
      })
    })
  }
}

async function listen (server: Server, address: ListenAddress): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: Error) => {
      reject(new Error(`metrics server cannot listen on ${formatAddress(address)}: ${err.message}`, { cause: err }))
    })
    server.listen({ host: address.host, port: address.port, ipv6Only: address.host.includes(':') }, () => {
      server.removeAllListeners('error')
      server.on('error', () => {})
      resolve()
    })
  })
}

function handle (req: IncomingMessage, res: ServerResponse, components: MetricsServerComponents): void {
  const path = (req.url ?? '').split('?')[0]
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    reply(res, 405, 'only GET\n', { allow: 'GET, HEAD' })
    return
  }
  if (path === '/healthz') {
    // 503 tells a load balancer or orchestrator to send nobody here yet, or any more
    const ready = components.ready()
    reply(res, ready ? 200 : 503, ready ? 'ready\n' : 'not ready\n')
    return
  }
  if (path === '/metrics') {
    components.metrics.render().then(text => {
      reply(res, 200, text, { 'content-type': components.metrics.contentType })
    }, (err: unknown) => {
      reply(res, 500, `cannot collect metrics: ${err instanceof Error ? err.message : String(err)}\n`)
    })
    return
  }
  reply(res, 404, 'not found: try /metrics or /healthz\n')
}

function reply (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers })
  res.end(body)
}

export function formatAddress (address: ListenAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`
}
