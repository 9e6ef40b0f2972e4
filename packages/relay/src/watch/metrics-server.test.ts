import { afterEach, describe, expect, it } from 'vitest'
import { startMetricsServer, type MetricsServer } from './metrics-server.js'

const servers: MetricsServer[] = []
let ready = false

afterEach(async () => {
  await Promise.all(servers.splice(0).map(async server => { await server.close() }))
})

async function start (): Promise<string> {
  const server = await startMetricsServer({ host: '127.0.0.1', port: 0 }, {
    metrics: { contentType: 'text/plain; version=0.0.4', render: async () => Promise.resolve('some_metric 1\n') },
    ready: () => ready
  })
  servers.push(server)
  return server.url
}

describe('metrics server', () => {
  it('answers /healthz 503 while not ready and 200 once ready', async () => {
    const url = await start()
    ready = false
    expect((await fetch(`${url}/healthz`)).status).toBe(503)
    ready = true
    expect((await fetch(`${url}/healthz`)).status).toBe(200)
  })

  it('serves the exposition text at /metrics with its content type', async () => {
    const url = await start()
    const res = await fetch(`${url}/metrics`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4')
    expect(await res.text()).toBe('some_metric 1\n')
  })

  it('answers 404 for other paths and 405 for other methods', async () => {
    const url = await start()
    expect((await fetch(`${url}/`)).status).toBe(404)
    expect((await fetch(`${url}/metrics`, { method: 'POST' })).status).toBe(405)
  })

  it('names the address when it cannot listen', async () => {
    const url = new URL(await start())
    await expect(startMetricsServer({ host: '127.0.0.1', port: Number(url.port) }, {
      metrics: { contentType: 'text/plain', render: async () => Promise.resolve('') },
      ready: () => true
    })).rejects.toThrow(`metrics server cannot listen on 127.0.0.1:${url.port}`)
  })
})
