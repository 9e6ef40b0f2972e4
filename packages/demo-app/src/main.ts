/**
 * Lifeline demo: one peer per tab. Share this tab's link, or paste another tab's link
 * or peer ID, then chat; each link shows whether it is relayed or direct, and its RTT.
 * Uses only the public API of @lifeline/sdk.
 */
import { createPeer, isLifelineError } from '@lifeline/sdk'
import type { ConnectProgress, Link, Peer, PeerInit } from '@lifeline/sdk'
import {
  forgetIdentity, loadIdentity, loadRelays, needsPrivateAddresses, peerIdFromHash, peerIdFromInput,
  saveIdentity, shareLink
} from './config.js'
import { addLinkRow, addMessage, renderRelays, setChatTarget, setOnline, shortId, showError, ui } from './ui.js'
import type { LinkRow } from './ui.js'
import './style.css'

const decoder = new TextDecoder()
const links = new Map<string, { link: Link, row: LinkRow }>()

/** Runs a UI action; a failure is shown on the page, never lost. */
function run (task: () => Promise<void>, context: string): void {
  task().catch((err: unknown) => { showError(err, context) })
}

function say (text: string): void {
  ui.connectProgress.textContent = text
}

async function startPeer (): Promise<Peer> {
  const relays = await loadRelays()
  const init: PeerInit = { relays, iceServers: [], allowPrivateAddresses: needsPrivateAddresses(relays) }
  const savedKey = loadIdentity()
  let peer: Peer
  try {
    peer = await createPeer(savedKey === undefined ? init : { ...init, privateKey: savedKey })
  } catch (err) {
    if (savedKey === undefined || !isLifelineError(err, 'INVALID_CONFIG')) {
      throw err
    }
    // The key this tab saved is unusable: start over with a new identity
    forgetIdentity()
    peer = await createPeer(init)
  }
  saveIdentity(peer.exportPrivateKey())
  await peer.start()
  return peer
}

/** Shows a link in the list and the chat, and keeps its badge current. */
function track (link: Link): void {
  const peerId = link.remotePeerId
  const known = links.get(peerId)
  if (known?.link === link) {
    return
  }
  known?.row.remove()
  const row = addLinkRow(peerId, link.direction, () => { run(() => link.close(), 'Closing the link failed') })
  links.set(peerId, { link, row })

  const redraw = (): void => { row.update(link) }
  link.addEventListener('message', event => { addMessage('in', peerId, decoder.decode(event.detail)) })
  link.addEventListener('pathchange', redraw)
  link.addEventListener('rtt', redraw)
  link.addEventListener('close', event => {
    redraw()
    setChatTarget(peerId, false)
    if (event.detail !== undefined) {
      showError(event.detail, `The link to ${shortId(peerId)} closed`)
    }
  }, { once: true })
  redraw()
  setChatTarget(peerId, !link.closed)
}

function progressText (event: ConnectProgress, peerId: string): string {
  switch (event.type) {
    case 'dial-relayed': return `Dialing ${shortId(peerId)} through ${shortId(event.relay)}…`
    case 'relayed': return `Reached ${shortId(peerId)} through the relay, opening the link…`
    case 'link-open': return `Link to ${shortId(peerId)} open.`
  }
}

async function connect (peer: Peer, peerId: string): Promise<void> {
  if (peerId === peer.peerId) {
    say('That is this tab\'s own peer: open the share link in another tab or browser.')
    return
  }
  try {
    say('Waiting for a relay reservation…')
    await peer.online()
    const link = await peer.connect(peerId, { onProgress: event => { say(progressText(event, peerId)) } })
    track(link)
    say(`Connected to ${shortId(peerId)}.`)
  } catch (err) {
    say('')
    throw err
  }
}

async function main (): Promise<void> {
  const peer = await startPeer()
  ui.peerId.textContent = peer.peerId
  ui.shareLink.value = shareLink(peer.peerId)
  ui.copyLink.disabled = false

  const status = peer.status()
  setOnline(status.online)
  renderRelays(status.relays)
  peer.addEventListener('online', event => { setOnline(event.detail) })
  peer.addEventListener('status', event => { renderRelays(event.detail.relays) })
  peer.addEventListener('link', event => {
    track(event.detail)
    say(`${shortId(event.detail.remotePeerId)} connected to this peer.`)
  })

  ui.copyLink.addEventListener('click', () => {
    ui.shareLink.select()
    run(async () => {
      await navigator.clipboard.writeText(ui.shareLink.value)
      ui.copyLink.textContent = 'Copied'
    }, 'Copying failed (the link is selected: press Ctrl+C)')
  })

  ui.connectForm.addEventListener('submit', event => {
    event.preventDefault()
    run(() => connect(peer, peerIdFromInput(ui.connectInput.value)), 'Connect failed')
  })

  ui.chatForm.addEventListener('submit', event => {
    event.preventDefault()
    const text = ui.chatInput.value
    const link = links.get(ui.chatTo.value)?.link
    if (text === '' || link === undefined) {
      return
    }
    ui.chatInput.value = ''
    run(async () => {
      await link.send(text)
      addMessage('out', link.remotePeerId, text)
    }, 'Sending failed')
  })

  // A share link (#peer=<id>) connects on load, and when pasted into this tab's address bar
  const connectFromHash = (): void => {
    const peerId = peerIdFromHash(location.hash)
    if (peerId !== undefined) {
      run(() => connect(peer, peerId), 'Connect failed')
    }
  }
  window.addEventListener('hashchange', connectFromHash)
  connectFromHash()

  // Let the remote side see the links close now rather than after a timeout
  window.addEventListener('pagehide', () => { run(() => peer.stop(), 'Stopping failed') })
}

main().catch((err: unknown) => {
  ui.online.textContent = 'not running'
  showError(err, 'The peer could not start')
})
