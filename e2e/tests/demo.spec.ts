/**
 * The demo app (packages/demo-app, as built) in the lab: two browsers open the same
 * invite link, see each other by name with the link's path badge, chat, and send a
 * file with a progress bar on both sides. The screenshots in the README come from
 * this test (`test-results/.../demo-*.png`).
 */
import { cp, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Browser, Page } from '@playwright/test'
import { expect, test } from '../lab/fixtures.js'
import { E2E_DIR, launchBrowserIn, requireFile, serveSite } from '../lab/services.js'

const DEMO_DIST = join(E2E_DIR, '..', 'packages', 'demo-app', 'dist')
const DEMO_PORT = 8090
const ROOM = 'standup'
const FILE_BYTES = 3_000_000

const browsers: Browser[] = []
test.afterEach(async () => { await Promise.all(browsers.splice(0).map(async (b) => { await b.close() })) })

async function openDemo (browser: Browser, url: string, name: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 900, height: 1000 } })
  await context.addInitScript((n) => { localStorage.setItem('lifeline-demo/name', n) }, name)
  const page = await context.newPage()
  await page.goto(url)
  return page
}

test('two browsers in one room: names, path badges, chat, and a file with progress on both sides', async ({ lab, relay }, testInfo) => {
  test.setTimeout(120_000)
  await requireFile(join(DEMO_DIST, 'index.html'), 'build it with `pnpm build`')
  const root = join(lab.dir, 'demo')
  await cp(DEMO_DIST, root, { recursive: true })
  await writeFile(join(root, 'relays.json'), JSON.stringify([relay.multiaddr]))
  const site = await serveSite(lab, lab.nsA, lab.ipA, DEMO_PORT, root)
  const invite = `${site}#room=${ROOM}`

  browsers.push(await launchBrowserIn(lab, lab.nsA), await launchBrowserIn(lab, lab.nsB))
  const [browserA, browserB] = browsers as [Browser, Browser]
  const ann = await openDemo(browserA, invite, 'Ann')
  const bob = await openDemo(browserB, invite, 'Bob')

  for (const [page, other] of [[ann, 'Bob'], [bob, 'Ann']] as const) {
    await expect(page.locator('#room-state')).toHaveText(`In "${ROOM}" as ${page === ann ? 'Ann' : 'Bob'}.`)
    const member = page.locator('.member', { hasText: other })
    await expect(member.locator('.name')).toHaveText(other)
    await expect(member.locator('.badge')).toHaveText(/^(relayed|direct)$/)
  }

  await ann.fill('#chat-input', 'Morning, Bob!')
  await ann.press('#chat-input', 'Enter')
  await expect(bob.locator('.message', { hasText: 'Morning, Bob!' }).locator('.who')).toHaveText('Ann')
  await bob.fill('#chat-input', 'Hi Ann, sending the notes')
  await bob.press('#chat-input', 'Enter')
  await expect(ann.locator('.message', { hasText: 'sending the notes' }).locator('.who')).toHaveText('Bob')

  const chooser = bob.waitForEvent('filechooser')
  await bob.locator('.member', { hasText: 'Ann' }).getByRole('button', { name: 'Send a file to Ann' }).click()
  await (await chooser).setFiles({ name: 'notes.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(FILE_BYTES, 7) })
  await expect(ann.locator('.transfer', { hasText: 'notes.bin' }).locator('.status')).toHaveText('done')
  await expect(ann.locator('.transfer', { hasText: 'notes.bin' }).getByRole('link', { name: 'Save' })).toBeVisible()
  await expect(bob.locator('.transfer', { hasText: 'notes.bin' }).locator('.status')).toHaveText('done')
  expect(await ann.locator('.transfer progress').evaluate((bar: HTMLProgressElement) => bar.value)).toBe(FILE_BYTES)

  await ann.screenshot({ path: testInfo.outputPath('demo-ann.png'), fullPage: true })
  await bob.screenshot({ path: testInfo.outputPath('demo-bob.png'), fullPage: true })

  // Bob closes his tab: Ann sees him leave
  await bob.close()
  await expect(ann.locator('.member', { hasText: 'Bob' })).toHaveCount(0)
  await expect(ann.locator('.message', { hasText: 'Bob left' })).toHaveCount(1)
})
