import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { killAll, runCli, startCli, type RunningCli } from '../test/cli-process.js'

const WS_MULTIADDR = /^\/ip4\/127\.0\.0\.1\/tcp\/(\d+)\/ws\/p2p\/(12D3Koo\w+)$/

let dir: string
let keyFile: string
const running: RunningCli[] = []

function start (args: string[] = []): RunningCli {
  const cli = startCli(['--host', '127.0.0.1', '--port', '0', '--key', keyFile, ...args])
  running.push(cli)
  return cli
}

async function stop (cli: RunningCli): Promise<Awaited<RunningCli['exited']>> {
  cli.child.kill('SIGTERM')
  return cli.exited
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lifeline-relay-cli-'))
  keyFile = join(dir, 'relay.key')
})

afterEach(async () => {
  await killAll(running)
  await rm(dir, { recursive: true, force: true })
})

describe('lifeline-relay CLI', () => {
  it('prints only its ws multiaddr on stdout, with the real port when 0 was asked', async () => {
    const cli = start()
    const [line] = await cli.firstLines(1)
    const match = WS_MULTIADDR.exec(line ?? '')
    expect(match, `stdout line: ${String(line)}`).not.toBeNull()
    expect(Number(match?.[1])).toBeGreaterThan(0)

    const exit = await stop(cli)
    expect(exit.stdout).toBe(`${String(line)}\n`)
    expect(exit.stderr).toMatch(/^lifeline-relay: created a new key in .*relay\.key, peer ID 12D3Koo\w+\n$/)
  })

  it('keeps its peer ID when restarted with the same key file', async () => {
    const first = start()
    const [firstAddr] = await first.firstLines(1)
    await stop(first)

    const second = start()
    const [secondAddr] = await second.firstLines(1)
    const exit = await stop(second)

    const peerId = (addr: string | undefined): string | undefined => WS_MULTIADDR.exec(addr ?? '')?.[2]
    expect(peerId(secondAddr)).toBeDefined()
    expect(peerId(secondAddr)).toBe(peerId(firstAddr))
    expect(exit.stderr).toBe('')
  })

  it('prints the announce addresses instead of the listen address', async () => {
    const cli = start(['--announce', '/dns4/relay.example.com/tcp/443/wss'])
    const [line] = await cli.firstLines(1)
    expect(line).toMatch(/^\/dns4\/relay\.example\.com\/tcp\/443\/wss\/p2p\/12D3Koo\w+$/)
    const exit = await stop(cli)
    expect(exit.stdout.trim().split('\n')).toHaveLength(1)
  })

  it('writes every stderr line as a JSON record with --log-format json, its own messages included', async () => {
    const cli = startCli(['--host', '127.0.0.1', '--port', '0', '--key', keyFile, '--log-format', 'json', '--metrics', '127.0.0.1:0'], { DEBUG: 'lifeline:relay*' })
    running.push(cli)
    await cli.firstLines(1)
    const exit = await stop(cli)
    const lines = exit.stderr.trim().split('\n')
    expect(lines.length).toBeGreaterThan(2)
    const records = lines.map(line => JSON.parse(line) as Record<string, unknown>)
    for (const record of records) {
      expect(Object.keys(record)).toEqual(['time', 'level', 'namespace', 'message', 'fields'])
    }
    expect(records.map(r => r.message)).toEqual(expect.arrayContaining([
      expect.stringMatching(/^created a new key in .*relay\.key, peer ID 12D3Koo\w+$/),
      expect.stringMatching(/^metrics on http:\/\/127\.0\.0\.1:\d+\/metrics/),
      expect.stringMatching(/^relay 12D3Koo\w+ listening on /)
    ]))
  })

  it('exits 0 promptly on SIGTERM and SIGINT', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const cli = start()
      await cli.firstLines(1)
      const sent = Date.now()
      cli.child.kill(signal)
      const exit = await cli.exited
      expect(exit.code, `${signal}: ${String(exit.signal)} ${exit.stderr}`).toBe(0)
      expect(Date.now() - sent).toBeLessThan(3_000)
    }
  })

  it('exits 2 with a clear message and a hint for a bad flag', async () => {
    const exit = await runCli(['--prot', '4001'])
    expect(exit.code).toBe(2)
    expect(exit.stdout).toBe('')
    expect(exit.stderr).toBe('lifeline-relay: unknown option --prot\nRun lifeline-relay --help for usage.\n')
  })

  it('exits 2 for a bad number in an environment variable', async () => {
    const exit = await runCli([], { LIFELINE_RELAY_PORT: 'http' })
    expect(exit.code).toBe(2)
    expect(exit.stderr).toMatch(/^lifeline-relay: LIFELINE_RELAY_PORT must be an integer/)
  })

  it('exits 2 for a corrupt key file and leaves the file untouched', async () => {
    const garbage = 'definitely not a protobuf key'
    await writeFile(keyFile, garbage)
    const cli = start()
    const exit = await cli.exited
    expect(exit.code).toBe(2)
    expect(exit.stdout).toBe('')
    expect(exit.stderr).toContain(`lifeline-relay: key file ${keyFile} does not hold a libp2p private key`)
    expect(await readFile(keyFile, 'utf8')).toBe(garbage)
  })

  it('prints its WebRTC-Direct address with the certhash when asked, and keeps it across restarts', async () => {
    const WEBRTC_MULTIADDR = /^\/ip4\/127\.0\.0\.1\/udp\/[1-9]\d*\/webrtc-direct\/certhash\/(u[\w-]+)\/p2p\/12D3Koo\w+$/
    const first = start(['--webrtc-direct', '0'])
    const firstLines = await first.firstLines(2)
    const firstExit = await stop(first)
    const certhash = WEBRTC_MULTIADDR.exec(firstLines.find(l => l.includes('/udp/')) ?? '')?.[1]
    expect(certhash, `stdout: ${firstLines.join(' ')}`).toBeDefined()
    expect(firstExit.stderr).toContain(`created a new WebRTC-Direct certificate in ${keyFile}.webrtc-direct.pem, certhash ${certhash ?? ''}`)

    const second = start(['--webrtc-direct', '0'])
    const secondLines = await second.firstLines(2)
    const secondExit = await stop(second)
    expect(WEBRTC_MULTIADDR.exec(secondLines.find(l => l.includes('/udp/')) ?? '')?.[1]).toBe(certhash)
    expect(secondExit.stderr).toBe('')
  })

  it('exits 2 for a corrupt WebRTC-Direct certificate file and leaves it untouched', async () => {
    const certificateFile = `${keyFile}.webrtc-direct.pem`
    await writeFile(certificateFile, 'not a certificate')
    const exit = await start(['--webrtc-direct', '0']).exited
    expect(exit.code).toBe(2)
    expect(exit.stdout).toBe('')
    expect(exit.stderr).toContain(`lifeline-relay: WebRTC-Direct certificate file ${certificateFile} does not hold`)
    expect(await readFile(certificateFile, 'utf8')).toBe('not a certificate')
  })

  it('exits 1 when the port is taken', async () => {
    const first = start()
    const [line] = await first.firstLines(1)
    const port = WS_MULTIADDR.exec(line ?? '')?.[1] ?? ''

    const second = startCli(['--host', '127.0.0.1', '--port', port, '--key', keyFile])
    running.push(second)
    const exit = await second.exited
    expect(exit.code).toBe(1)
    expect(exit.stderr).toMatch(/^lifeline-relay: cannot start: /)
  })

  it('prints usage on stdout and exits 0 for --help', async () => {
    const exit = await runCli(['--help'])
    expect(exit.code).toBe(0)
    expect(exit.stdout).toMatch(/^Usage: lifeline-relay \[options\]/)
    expect(exit.stdout).toContain('--max-circuit-bytes')
    expect(exit.stderr).toBe('')
  })
})
