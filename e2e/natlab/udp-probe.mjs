// UDP probes for checking the NAT lab without a browser. Run inside a namespace:
//   node udp-probe.mjs stun LOCAL_PORT HOST:PORT [HOST:PORT ...]
//     sends a STUN Binding request (RFC 5389) to each server from one local port and
//     prints one JSON line per server: {"server","mapped"} ("ip:port", or null on timeout)
//   node udp-probe.mjs stun-listen LOCAL_PORT MS HOST:PORT [HOST:PORT ...]
//     the same, then prints "ready" and one JSON line {"from"} per other datagram
//     that reaches the same socket within MS (to test a NAT's filtering)
//   node udp-probe.mjs send HOST PORT [LOCAL_PORT]
//     sends one datagram
import { createSocket } from 'node:dgram'
import { randomBytes } from 'node:crypto'

const MAGIC_COOKIE = 0x2112a442
const TIMEOUT_MS = 1500

const [mode, ...args] = process.argv.slice(2)

function bind (port) {
  const socket = createSocket('udp4')
  return new Promise((resolve, reject) => {
    socket.once('error', reject)
    socket.bind(Number(port), () => { resolve(socket) })
  })
}

function xorMappedAddress (message) {
  let offset = 20
  while (offset + 4 <= message.length) {
    const type = message.readUInt16BE(offset)
    const length = message.readUInt16BE(offset + 2)
    if (type === 0x0020 && message[offset + 5] === 0x01) {
      const port = message.readUInt16BE(offset + 6) ^ (MAGIC_COOKIE >>> 16)
      const ip = (message.readUInt32BE(offset + 8) ^ MAGIC_COOKIE) >>> 0
      return `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}:${port}`
    }
    offset += 4 + length + ((4 - (length % 4)) % 4)
  }
  return null
}

async function stun (localPort, servers, listenMs = 0) {
  const socket = await bind(localPort)
  for (const server of servers) {
    const [host, port] = server.split(':')
    const transaction = randomBytes(12)
    const request = Buffer.alloc(20)
    request.writeUInt16BE(0x0001, 0)
    request.writeUInt16BE(0, 2)
    request.writeUInt32BE(MAGIC_COOKIE, 4)
    transaction.copy(request, 8)
    const mapped = await new Promise((resolve) => {
      const timer = setTimeout(() => { socket.off('message', onMessage); resolve(null) }, TIMEOUT_MS)
      function onMessage (message) {
        if (message.length >= 20 && message.subarray(8, 20).equals(transaction)) {
          clearTimeout(timer)
          socket.off('message', onMessage)
          resolve(xorMappedAddress(message))
        }
      }
      socket.on('message', onMessage)
      socket.send(request, Number(port), host)
    })
    console.log(JSON.stringify({ server, mapped }))
  }
  if (listenMs > 0) {
    socket.on('message', (_message, rinfo) => { console.log(JSON.stringify({ from: `${rinfo.address}:${rinfo.port}` })) })
    console.log('ready')
    await new Promise((resolve) => { setTimeout(resolve, listenMs) })
  }
  socket.close()
}

async function send (host, port, localPort = '0') {
  const socket = await bind(localPort)
  await new Promise((resolve, reject) => {
    socket.send(Buffer.from('probe'), Number(port), host, (err) => { err ? reject(err) : resolve() })
  })
  socket.close()
}

if (mode === 'stun' && args.length >= 2) {
  await stun(args[0], args.slice(1))
} else if (mode === 'stun-listen' && args.length >= 3) {
  await stun(args[0], args.slice(2), Number(args[1]))
} else if (mode === 'send' && args.length >= 2) {
  await send(args[0], args[1], args[2])
} else {
  console.error('usage: udp-probe.mjs stun LOCAL_PORT HOST:PORT... | stun-listen LOCAL_PORT MS HOST:PORT... | send HOST PORT [LOCAL_PORT]')
  process.exit(2)
}
