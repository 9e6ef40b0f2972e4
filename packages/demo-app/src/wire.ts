/**
 * The demo's own messages over Lifeline links: chat lines and files. Each message
 * starts with one byte naming its kind; a file goes as an offer, then chunks, and
 * the receiver reports its progress back, so both sides show how far it got.
 * Anything malformed decodes to undefined and is ignored.
 */

const KIND = { chat: 1, offer: 2, chunk: 3, progress: 4 } as const

/** A file's bytes per chunk: one link message each, well under the SDK's 1 MiB default maximum. */
export const FILE_CHUNK_BYTES = 64 * 1024
/** Longest chat line accepted from a remote, in characters. */
const MAX_CHAT_CHARS = 4000
/** Longest file name accepted from a remote, in characters. */
const MAX_FILE_NAME_CHARS = 255

export type DemoMessage =
  | { kind: 'chat', text: string }
  | { kind: 'offer', id: number, name: string, size: number }
  | { kind: 'chunk', id: number, data: Uint8Array }
  | { kind: 'progress', id: number, received: number }

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** `kind` byte, then a 32-bit transfer ID, then a number or bytes. */
function framed (kind: number, id: number, rest: Uint8Array | number): Uint8Array {
  const tail = typeof rest === 'number' ? 8 : rest.byteLength
  const out = new Uint8Array(5 + tail)
  const view = new DataView(out.buffer)
  out[0] = kind
  view.setUint32(1, id)
  if (typeof rest === 'number') {
    view.setFloat64(5, rest)
  } else {
    out.set(rest, 5)
  }
  return out
}

export function encode (message: DemoMessage): Uint8Array {
  switch (message.kind) {
    case 'chat': {
      const text = encoder.encode(message.text)
      const out = new Uint8Array(1 + text.byteLength)
      out[0] = KIND.chat
      out.set(text, 1)
      return out
    }
    case 'offer': return framed(KIND.offer, message.id, encoder.encode(JSON.stringify({ name: message.name, size: message.size })))
    case 'chunk': return framed(KIND.chunk, message.id, message.data)
    case 'progress': return framed(KIND.progress, message.id, message.received)
  }
}

export function decode (bytes: Uint8Array): DemoMessage | undefined {
  try {
    const kind = bytes[0]
    if (kind === KIND.chat) {
      const text = decoder.decode(bytes.subarray(1))
      return text.length <= MAX_CHAT_CHARS ? { kind: 'chat', text } : undefined
    }
    if (bytes.byteLength < 5) {
      return undefined
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const id = view.getUint32(1)
    const rest = bytes.subarray(5)
    if (kind === KIND.chunk) {
      return { kind: 'chunk', id, data: rest }
    }
    if (kind === KIND.progress && rest.byteLength === 8) {
      return { kind: 'progress', id, received: view.getFloat64(5) }
    }
    if (kind === KIND.offer) {
      const offer: unknown = JSON.parse(decoder.decode(rest))
      if (typeof offer === 'object' && offer !== null && 'name' in offer && 'size' in offer &&
        typeof offer.name === 'string' && offer.name.length <= MAX_FILE_NAME_CHARS &&
        typeof offer.size === 'number' && Number.isSafeInteger(offer.size) && offer.size >= 0) {
        return { kind: 'offer', id, name: offer.name, size: offer.size }
      }
    }
  } catch {
    // not UTF-8 or not JSON: not one of ours
  }
  return undefined
}
