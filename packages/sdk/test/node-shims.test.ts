import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ENTRY = fileURLToPath(new URL('../dist/index.js', import.meta.url))

describe('Node.js entry point', () => {
  it('provides Promise.withResolvers and a global WebSocket that libp2p 3 needs', () => {
    const script = `
      const before = [typeof Promise.withResolvers, typeof globalThis.WebSocket]
      await import(${JSON.stringify(ENTRY)})
      const { promise, resolve } = Promise.withResolvers()
      resolve(42)
      console.log(JSON.stringify({ before, after: [typeof Promise.withResolvers, typeof globalThis.WebSocket], value: await promise }))
    `
    const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as {
      before: string[]
      after: string[]
      value: number
    }
    expect(out.after).toEqual(['function', 'function'])
    expect(out.value).toBe(42)
  })

  it('survives a WebSocket dial that fails while nobody listens for its error, as a browser does', () => {
    // port 1 on loopback refuses at once; only 'close' is listened for
    const script = `
      await import(${JSON.stringify(ENTRY)})
      const ws = new WebSocket('ws://127.0.0.1:1')
      ws.addEventListener('close', () => { console.log('survived') })
    `
    expect(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim()).toBe('survived')
  })
})
