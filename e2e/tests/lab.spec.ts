/**
 * Checks the lab itself, without the SDK: two Chromiums in separate namespaces load a
 * page over the veth and connect a plain RTCPeerConnection over the veth addresses, and
 * blockUdp() really cuts WebRTC while TCP keeps working.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Browser, Page } from '@playwright/test'
import { expect, test } from '../lab/fixtures.js'
import type { Lab } from '../lab/netns.js'
import { launchBrowserIn, startSite } from '../lab/services.js'

interface PlainWindow {
  pc: RTCPeerConnection
  channel: RTCDataChannel | undefined
  inbox: string[]
}

/** Both ends of a plain WebRTC pair, connected through the lab. */
interface PlainPair {
  a: Page
  b: Page
}

const BLANK_PAGE = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>lab</title></head><body>lab</body></html>\n'

async function withBrowsers (lab: Lab, use: (pair: PlainPair) => Promise<void>): Promise<void> {
  const root = join(lab.dir, 'site')
  await mkdir(root)
  await writeFile(join(root, 'index.html'), BLANK_PAGE)
  const url = await startSite(lab, root)
  const browsers: Browser[] = []
  try {
    const pages: Page[] = []
    for (const ns of [lab.nsA, lab.nsB]) {
      const browser = await launchBrowserIn(lab, ns)
      browsers.push(browser)
      const page = await (await browser.newContext()).newPage()
      await page.goto(url)
      await expect(page.locator('body')).toHaveText('lab')
      pages.push(page)
    }
    const [a, b] = pages
    if (a === undefined || b === undefined) {
      throw new Error('two pages expected')
    }
    await use({ a, b })
  } finally {
    await Promise.all(browsers.map(async (browser) => { await browser.close() }))
  }
}

/** Offer from A, answer from B, both with complete ICE gathering; returns both SDPs. */
async function connectPlain ({ a, b }: PlainPair): Promise<{ offer: string, answer: string }> {
  const offer = await a.evaluate(async () => {
    const w = window as unknown as PlainWindow
    w.inbox = []
    w.pc = new RTCPeerConnection({ iceServers: [] })
    const channel = w.pc.createDataChannel('lab')
    w.channel = channel
    channel.onmessage = (event) => { w.inbox.push(String(event.data)) }
    const gathered = new Promise<void>((resolve) => {
      w.pc.onicegatheringstatechange = () => { if (w.pc.iceGatheringState === 'complete') resolve() }
    })
    await w.pc.setLocalDescription()
    await gathered
    return w.pc.localDescription?.sdp ?? ''
  })
  const answer = await b.evaluate(async (sdp) => {
    const w = window as unknown as PlainWindow
    w.inbox = []
    w.channel = undefined
    w.pc = new RTCPeerConnection({ iceServers: [] })
    w.pc.ondatachannel = (event) => {
      w.channel = event.channel
      event.channel.onmessage = (message) => { w.inbox.push(String(message.data)) }
    }
    const gathered = new Promise<void>((resolve) => {
      w.pc.onicegatheringstatechange = () => { if (w.pc.iceGatheringState === 'complete') resolve() }
    })
    await w.pc.setRemoteDescription({ type: 'offer', sdp })
    await w.pc.setLocalDescription()
    await gathered
    return w.pc.localDescription?.sdp ?? ''
  }, offer)
  await a.evaluate(async (sdp) => {
    await (window as unknown as PlainWindow).pc.setRemoteDescription({ type: 'answer', sdp })
  }, answer)
  for (const page of [a, b]) {
    await expect.poll(() => page.evaluate(() => (window as unknown as PlainWindow).channel?.readyState)).toBe('open')
  }
  return { offer, answer }
}

async function sendPlain (page: Page, text: string): Promise<void> {
  await page.evaluate((t) => { (window as unknown as PlainWindow).channel?.send(t) }, text)
}

async function inbox (page: Page): Promise<string[]> {
  return page.evaluate(() => [...(window as unknown as PlainWindow).inbox])
}

async function iceState (page: Page): Promise<RTCIceConnectionState> {
  return page.evaluate(() => (window as unknown as PlainWindow).pc.iceConnectionState)
}

/** The addresses of the candidate pair the connection uses. */
async function selectedPair (page: Page): Promise<{ local: string, remote: string }> {
  return page.evaluate(async () => {
    const stats = await (window as unknown as PlainWindow).pc.getStats()
    const byId = new Map<string, Record<string, unknown>>()
    stats.forEach((report: Record<string, unknown>) => { byId.set(String(report.id), report) })
    for (const report of byId.values()) {
      if (report.type === 'transport' && typeof report.selectedCandidatePairId === 'string') {
        const pair = byId.get(report.selectedCandidatePairId)
        const local = byId.get(String(pair?.localCandidateId))
        const remote = byId.get(String(pair?.remoteCandidateId))
        return { local: String(local?.address), remote: String(remote?.address) }
      }
    }
    return { local: 'none', remote: 'none' }
  })
}

function candidateAddresses (sdp: string): string[] {
  return sdp.split(/\r?\n/)
    .filter((line) => line.startsWith('a=candidate:'))
    .map((line) => line.split(' ')[4] ?? '')
}

test('lab: two browsers in separate namespaces can reach each other over the veth', async ({ lab }) => {
  await withBrowsers(lab, async (pair) => {
    const { offer, answer } = await connectPlain(pair)

    // Each side offered exactly its own veth address: no loopback, no host interface.
    expect(candidateAddresses(offer)).toEqual([lab.ipA])
    expect(candidateAddresses(answer)).toEqual([lab.ipB])
    expect(await selectedPair(pair.a)).toEqual({ local: lab.ipA, remote: lab.ipB })
    expect(await selectedPair(pair.b)).toEqual({ local: lab.ipB, remote: lab.ipA })

    await sendPlain(pair.a, 'hello from A')
    await sendPlain(pair.b, 'hello from B')
    await expect.poll(() => inbox(pair.b)).toEqual(['hello from A'])
    await expect.poll(() => inbox(pair.a)).toEqual(['hello from B'])
  })
})

test('lab: blockUdp cuts WebRTC between the namespaces while TCP still works, unblockUdp restores it', async ({ lab }) => {
  await withBrowsers(lab, async (pair) => {
    await connectPlain(pair)

    await lab.blockUdp(lab.nsB)
    // ICE consent checks go unanswered, so both sides drop to 'disconnected'.
    await expect.poll(() => iceState(pair.a), { timeout: 20_000 }).toBe('disconnected')
    await expect.poll(() => iceState(pair.b), { timeout: 20_000 }).toBe('disconnected')
    // The page server is reached over TCP from B, across the veth.
    expect(await pair.b.evaluate(async () => (await fetch(location.href)).status)).toBe(200)

    await lab.unblockUdp(lab.nsB)
    await expect.poll(() => iceState(pair.a), { timeout: 20_000 }).toBe('connected')
    await sendPlain(pair.a, 'after unblock')
    await expect.poll(() => inbox(pair.b)).toEqual(['after unblock'])
  })
})
