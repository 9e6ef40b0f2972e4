/**
 * The relay's logs, its own and libp2p's (the logger is given to libp2p as its
 * `logger` component), one record per line on stderr: `--log-format text` for
 * people, `json` for log shippers. Which namespaces log is still chosen with
 * `DEBUG`, as for any libp2p program; everything is off by default.
 *
 * Every line passes through here, so this is where secrets are kept out: bytes are
 * never printed (a key is bytes), a private key object prints as `[redacted]`,
 * fields named like secrets are dropped, and text that looks like a token or a
 * dumped key (@chainsafe/libp2p-noise prints session keys in hex when
 * `DUMP_SESSION_KEYS` is set) is replaced.
 */
import { enabled as debugEnabled } from '@libp2p/logger'
import type { ComponentLogger, Logger } from '@libp2p/interface'

export type LogFormat = 'text' | 'json'

export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json']

/** `log()` is info, `log.error()` error, `log.trace()` trace, as libp2p uses them. */
export type LogLevel = 'info' | 'warn' | 'error' | 'trace'

type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

export interface LogRecord {
  /** ISO 8601, UTC, milliseconds. */
  time: string
  level: LogLevel
  namespace: string
  message: string
  /** The trailing plain object of a log call, made safe to print. */
  fields: Record<string, JsonValue>
}

export interface RelayLoggerInit {
  format: LogFormat
  /** Writes one line (without its newline); stderr outside tests. */
  write?: (line: string) => void
  /** Whether a namespace logs; `DEBUG` outside tests. */
  enabled?: (namespace: string) => boolean
  now?: () => Date
}

const REDACTED = '[redacted]'

/** Field names whose values are never printed. */
const SECRET_FIELD = /key|secret|token|password|authorization|jwt|seed|private/i

/**
 * Text that must not reach a log line, each with what replaces it: JSON Web Tokens
 * (three base64url parts, the first a JSON object, so always `eyJ`), bearer
 * credentials, and any run of 32 or more hex digits (128 bits, the shortest key:
 * Noise's dump prints its static, ephemeral and cipher keys so). Peer IDs and
 * multiaddrs are base58 or decimal and keep their meaning.
 */
const SECRET_TEXT: ReadonlyArray<[RegExp, string]> = [
  [/eyJ[\w-]*\.[\w-]*\.[\w-]*/g, '[redacted token]'],
  [/(bearer\s+)\S+/gi, `$1${REDACTED}`],
  [/\b[0-9a-f]{32,}\b/gi, REDACTED]
]

export function redactText (text: string): string {
  return SECRET_TEXT.reduce((out, [pattern, replacement]) => out.replace(pattern, replacement), text)
}

/** A libp2p ComponentLogger writing `format` lines. */
export function relayLogger (init: RelayLoggerInit): ComponentLogger {
  const write = init.write ?? ((line: string) => { process.stderr.write(`${line}\n`) })
  const enabled = init.enabled ?? defaultEnabled
  const now = init.now ?? (() => new Date())

  const levelLogger = (namespace: string, level: LogLevel): ((formatter: unknown, ...args: unknown[]) => void) => {
    if (!enabled(namespace)) {
      return () => {}
    }
    return (formatter, ...args) => {
      const { message, fields } = formatMessage(formatter, args)
      write(formatLine({ time: now().toISOString(), level, namespace, message, fields }, init.format))
    }
  }

  const forComponent = (name: string): Logger => Object.assign(levelLogger(name, 'info'), {
    error: levelLogger(`${name}:error`, 'error'),
    trace: levelLogger(`${name}:trace`, 'trace'),
    enabled: enabled(name),
    newScope: (scope: string) => forComponent(`${name}:${scope}`)
  })
  return { forComponent }
}

/**
 * As @libp2p/logger decides: `DEBUG` patterns, and trace only when some pattern
 * names `:trace` (so `DEBUG=libp2p*` is not drowned in it).
 */
function defaultEnabled (namespace: string): boolean {
  if (namespace.endsWith(':trace') && !(process.env.DEBUG ?? '').includes(':trace')) {
    return false
  }
  return debugEnabled(namespace)
}

export function formatLine (record: LogRecord, format: LogFormat): string {
  if (format === 'json') {
    return JSON.stringify(record)
  }
  const fields = Object.keys(record.fields).length === 0 ? '' : ` ${JSON.stringify(record.fields)}`
  return `${record.time} ${record.level} ${record.namespace} ${record.message}${fields}`
}

/**
 * printf-style formatting as libp2p's loggers do it (`%s %d %i %f %j %o %O`, and
 * libp2p's `%p` peer, `%a` multiaddr, `%c` CID, `%k` key, `%e` error, `%b %t %m`
 * bytes); arguments beyond the placeholders are appended, except a trailing plain
 * object, which becomes the record's fields.
 */
export function formatMessage (formatter: unknown, args: readonly unknown[]): { message: string, fields: Record<string, JsonValue> } {
  const rest = [...args]
  let fields: Record<string, JsonValue> = {}
  let message: string
  if (typeof formatter === 'string') {
    message = formatter.replace(/%([a-zA-Z%])/g, (match, letter: string) => {
      if (letter === '%') {
        return '%'
      }
      if (rest.length === 0) {
        return match
      }
      return placeholder(letter, rest.shift())
    })
  } else {
    message = display(formatter)
  }
  const last = rest.at(-1)
  if (isPlainObject(last)) {
    rest.pop()
    fields = safeObject(last, 0)
  }
  for (const extra of rest) {
    message += ` ${display(extra)}`
  }
  return { message: redactText(message), fields }
}

function placeholder (letter: string, value: unknown): string {
  switch (letter) {
    case 'd':
    case 'i':
      return typeof value === 'bigint' ? value.toString() : String(Math.trunc(Number(value)))
    case 'f':
      return String(Number(value))
    case 'j':
    case 'o':
    case 'O':
      return JSON.stringify(safeValue(value, 0))
    default:
      // %s and libp2p's own: a peer ID, multiaddr, CID or public key prints as its
      // string; bytes and private keys never print
      return display(value)
  }
}

/** A value as text, never its bytes. */
function display (value: unknown): string {
  const safe = safeValue(value, 0)
  return typeof safe === 'string' ? safe : JSON.stringify(safe)
}

const MAX_DEPTH = 3

function safeValue (value: unknown, depth: number): JsonValue {
  if (value === null || value === undefined) {
    return value === null ? null : 'undefined'
  }
  switch (typeof value) {
    case 'string':
      return redactText(value)
    case 'number':
    case 'boolean':
      return value
    case 'bigint':
      return value.toString()
    case 'function':
    case 'symbol':
      return `[${typeof value}]`
  }
  if (value instanceof Uint8Array || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    return `<${value.byteLength} bytes>`
  }
  if (isPrivateKey(value)) {
    return REDACTED
  }
  if (value instanceof Error) {
    return redactText(`${value.name}: ${value.message}`)
  }
  if (Array.isArray(value)) {
    return depth >= MAX_DEPTH ? '[array]' : value.map(item => safeValue(item, depth + 1))
  }
  // PeerId, Multiaddr, CID, public keys: their string form is what is meant
  const text = isPlainObject(value) ? undefined : ownString(value)
  if (text !== undefined) {
    return redactText(text)
  }
  return depth >= MAX_DEPTH ? '[object]' : safeObject(value, depth + 1)
}

function safeObject (value: object, depth: number): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {}
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_FIELD.test(key) ? REDACTED : safeValue(item, depth)
  }
  return out
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) {
    return false
  }
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** How an object's class says it reads as text; undefined for Object's `[object Object]`. */
function ownString (value: object): string | undefined {
  const toString: unknown = Reflect.get(value, 'toString')
  if (typeof toString !== 'function' || toString === Object.prototype.toString) {
    return undefined
  }
  const text: unknown = Reflect.apply(toString, value, [])
  return typeof text === 'string' ? text : undefined
}

/** libp2p's PrivateKey: it signs. A public key only verifies. */
function isPrivateKey (value: object): boolean {
  return 'sign' in value && typeof value.sign === 'function'
}
