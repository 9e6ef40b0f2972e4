// Serves one directory over HTTP, or HTTPS when given a certificate and its key, for
// the lab's browsers. Run inside a namespace:
//   ip netns exec NS node static-server.mjs ROOT HOST PORT [CERT KEY]
// Prints "listening http(s)://HOST:PORT/" once ready; exits on SIGTERM.
import { createServer as createHttpServer } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { readFile } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { extname, join, normalize, sep } from 'node:path'

const [root, host, port, cert, key] = process.argv.slice(2)
if (root === undefined || host === undefined || port === undefined || (cert === undefined) !== (key === undefined)) {
  console.error('usage: static-server.mjs ROOT HOST PORT [CERT KEY]')
  process.exit(2)
}
const scheme = cert === undefined ? 'http' : 'https'


const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml'
}

const serve = (req, res) => {
  const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
  const relative = normalize(pathname.endsWith('/') ? `${pathname}index.html` : pathname)
  const file = join(root, relative)
  if (!file.startsWith(root.endsWith(sep) ? root : root + sep)) {
    res.writeHead(403).end()
    return
  }
  readFile(file).then((body) => {
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-store'
    })
    res.end(body)
  }, () => {
    res.writeHead(404).end()
  })
}
const server = cert === undefined
  ? createHttpServer(serve)
  : createHttpsServer({ cert: readFileSync(cert), key: readFileSync(key) }, serve)

server.listen(Number(port), host, () => {
  console.log(`listening ${scheme}://${host}:${port}/`)
})

process.on('SIGTERM', () => {
  server.close()
  server.closeAllConnections()
  process.exit(0)
})
