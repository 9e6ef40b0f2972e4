/** Table cells of the relay benches: a figure as text, or undefined for "not measured". */

export type Cell = string | undefined

const MIB = 1024 * 1024

export function integer (value: number | undefined): Cell {
  return value === undefined || Number.isNaN(value) ? undefined : Math.round(value).toLocaleString('en-US')
}

export function fixed (value: number | undefined, digits: number): Cell {
  return value === undefined || !Number.isFinite(value) ? undefined : value.toFixed(digits)
}

export function mib (bytes: number | undefined): Cell {
  return fixed(bytes === undefined ? undefined : bytes / MIB, 1)
}

export function kib (bytes: number | undefined): Cell {
  return fixed(bytes === undefined ? undefined : bytes / 1024, 1)
}
