/**
 * Raw sockets for attacking the relay below libp2p: TCP connections from chosen
 * source addresses (all of 127.0.0.0/8 is loopback), a valid WebSocket upgrade, and
 * hand-made WebSocket frames, including every kind RFC 6455 forbids.
 */
import { randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'

export async function connectFrom (localAddress: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress })
    socket.once('connect', () => { resolve(socket) })
    socket.once('error', reject)
  })
}

/** True once the relay has closed the socket (or refused it at accept). */
export async function closedByPeer (socket: Socket): Promise<void> {
  if (socket.destroyed || socket.readableEnded) {
    return
  }
  return new Promise(resolve => {
    socket.once('close', () => { resolve() })
    socket.once('end', () => { resolve() })
    // a reset from the relay surfaces as an error before 'close'
    socket.on('error', () => {})
  })
}

export function isOpen (socket: Socket): boolean {
  return !socket.destroyed && !socket.readableEnded
}

/** Opens a TCP connection and completes a WebSocket upgrade by hand. */
export async function upgradedSocket (localAddress: string, port: number): Promise<Socket> {
  const socket = await connectFrom(localAddress, port)
  socket.on('error', () => {})
  socket.write([
    'GET / HTTP/1.1',
    `Host: 127.0.0.1:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
    '', ''
  ].join('\r\n'))
  await new Promise<void>((resolve, reject) => {
    let head = ''
    const onData = (data: Buffer): void => {
      head += data.toString('latin1')
      if (head.includes('\r\n\r\n')) {
        socket.off('data', onData)
        if (head.startsWith('HTTP/1.1 101')) {
          resolve()
        } else {
          reject(new Error(`upgrade refused: ${head.split('\r\n')[0] ?? ''}`))
        }
      }
    }
    socket.on('data', onData)
    socket.once('close', () => { reject(new Error('closed during the upgrade')) })
  })
  return socket
}

export interface FrameSpec {
  opcode: number
  payload?: Buffer
  fin?: boolean
  /** RSV1-3 bits, which no extension is negotiated to use. */
  rsv?: number
  /** Clients must mask (RFC 6455 §5.3); false sends an unmasked frame. */
  masked?: boolean
  /** Length to announce instead of the payload's real length. */
  announcedLength?: bigint
}

export const OPCODE = { continuation: 0x0, text: 0x1, binary: 0x2, reserved: 0x3, close: 0x8, ping: 0x9 } as const

export function frame (spec: FrameSpec): Buffer {
  const payload = spec.payload ?? Buffer.alloc(0)
  const length = spec.announcedLength ?? BigInt(payload.length)
  const masked = spec.masked ?? true
  const first = ((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | spec.opcode
  let header: Buffer
  if (length < 126n) {
    header = Buffer.from([first, (masked ? 0x80 : 0) | Number(length)])
  } else if (length < 65536n) {
    header = Buffer.alloc(4)
    header[0] = first
    header[1] = (masked ? 0x80 : 0) | 126
    header.writeUInt16BE(Number(length), 2)
  } else {
    header = Buffer.alloc(10)
    header[0] = first
    header[1] = (masked ? 0x80 : 0) | 127
    header.writeBigUInt64BE(length, 2)
  }
  if (!masked) {
    return Buffer.concat([header, payload])
  }
  const key = randomBytes(4)
  const body = Buffer.from(payload.map((byte, i) => byte ^ (key[i % 4] ?? 0)))
  return Buffer.concat([header, key, body])
}

export function closePayload (code: number, reason: Buffer = Buffer.alloc(0)): Buffer {
  const payload = Buffer.alloc(2 + reason.length)
  payload.writeUInt16BE(code, 0)
  reason.copy(payload, 2)
  return payload
}
