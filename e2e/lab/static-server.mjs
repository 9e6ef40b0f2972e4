// Serves one directory over HTTP for the lab's browsers. Run inside a namespace:
//   ip netns exec NS node static-server.mjs ROOT HOST PORT
// Prints "listening http://HOST:PORT/" once ready; exits on SIGTERM.
import { createServer } from 'node:http'
import { readFile } from 'node:fs/promises'
import { extname, join, normalize, sep } from 'node:path'

const [root, host, port] = process.argv.slice(2)
if (root === undefined || host === undefined || port === undefined) {
  console.error('usage: static-server.mjs ROOT HOST PORT')
  process.exit(2)
}

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

const server = createServer((req, res) => {
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
})

server.listen(Number(port), host, () => {
  console.log(`listening http://${host}:${port}/`)
})

process.on('SIGTERM', () => {
  server.close()
  server.closeAllConnections()
  process.exit(0)
})
