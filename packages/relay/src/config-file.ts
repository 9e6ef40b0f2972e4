/**
 * The `--config` file: a JSON object with the keys of `RelayConfig` (camelCase, as
 * the library takes them), each value checked by the same code as its flag. Strict:
 * an unknown key (a typo, an option of another version) stops the relay rather than
 * being ignored, so a limit the operator meant to set is never silently the default.
 */
import { ConfigError } from './errors.js'
import type { RelayConfig } from './config.js'

/** What a key holds in the file. */
export type FileValueType = 'integer' | 'string' | 'strings' | 'bytes'

export interface FileOption {
  field: keyof RelayConfig
  type: FileValueType
  /** Checks `value` (as its flag would get it) and sets it; `source` names it in errors. */
  apply: (config: RelayConfig, value: string, source: string) => void
}

const EXPECTED: Readonly<Record<FileValueType, string>> = {
  integer: 'an integer',
  string: 'a string',
  strings: 'an array of strings',
  // byte counts go past 2^53, where JSON numbers lose digits
  bytes: 'an integer, or a string of digits'
}

/**
 * Applies every key of the JSON object in `text` to `config`.
 *
 * @throws ConfigError naming the file, and the key when one is at fault
 */
export function applyConfigFile (config: RelayConfig, text: string, file: string, options: readonly FileOption[]): void {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err: unknown) {
    throw new ConfigError(`config file ${file} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${file} must hold a JSON object of options, such as {"port": 4001}`)
  }

  const byField = new Map<string, FileOption>(options.map(option => [option.field, option]))
  for (const [key, value] of Object.entries(parsed)) {
    const option = byField.get(key)
    if (option === undefined) {
      throw new ConfigError(`config file ${file}: unknown key "${key}"; the keys are ${[...byField.keys()].join(', ')}`)
    }
    const source = `${file}: "${key}"`
    const values = asStrings(value, option.type)
    if (values === undefined) {
      throw new ConfigError(`${source} must be ${EXPECTED[option.type]}, got ${describe(value)}`)
    }
    for (const text of values) {
      option.apply(config, text, source)
    }
  }
}

/** The value as its flag would carry it (once per element for a list), or undefined for a wrong type. */
function asStrings (value: unknown, type: FileValueType): string[] | undefined {
  switch (type) {
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) ? [String(value)] : undefined
    case 'string':
      return typeof value === 'string' ? [value] : undefined
    case 'strings':
      return Array.isArray(value) && value.every(item => typeof item === 'string') ? value : undefined
    case 'bytes':
      return (typeof value === 'number' && Number.isInteger(value)) || typeof value === 'string' ? [String(value)] : undefined
  }
}

function describe (value: unknown): string {
  if (value === null) {
    return 'null'
  }
  if (Array.isArray(value)) {
    return 'an array'
  }
  if (typeof value === 'string') {
    return `the string ${JSON.stringify(value)}`
  }
  if (typeof value === 'number') {
    return `the number ${value}`
  }
  return `${typeof value === 'object' ? 'an' : 'a'} ${typeof value}`
}
