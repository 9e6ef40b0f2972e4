/**
 * Lifeline rooms demo: one peer per tab. Open the page with `#room=NAME` (or type a
 * room), see who else is in it with their names, each link's path (relayed or direct)
 * and RTT, chat to the room, and send a file to one member with a progress bar on both
 * sides. Uses only the public API of @lifeline/sdk.
 */
import { createPeer, isLifelineError } from '@lifeline/sdk'
import type { Link, Peer, PeerInit, Room, RoomMember } from '@lifeline/sdk'
import {
  forgetIdentity, inviteLink, loadIdentity, loadName, loadRelays, nameFromMetadata, needsPrivateAddresses,
  roomFromHash, saveIdentity, saveName
} from './config.js'
import { Transfers } from './files.js'
import {
  addMemberRow, addMessage, addTransfer, clearMembers, renderRelays, setChatEnabled, setOnline, shortId, showError, ui
} from './ui.js'
import type { MemberRow } from './ui.js'
import { decode, encode } from './wire.js'
import './style.css'

/** Rooms of this demo do not meet rooms of other apps on the same relays. */
const ROOM_NAMESPACE = 'lifeline-demo'

interface Member {
  name: string
  row: MemberRow
}

const members = new Map<string, Member>()
const transfers = new Transfers()
let room: Room | undefined
let joining: Promise<void> = Promise.resolve()

/** Runs a UI action; a failure is shown on the page, never lost. */
function run (task: () => Promise<void>, context: string): void {
  task().catch((err: unknown) => { showError(err, context) })
}

async function startPeer (): Promise<Peer> {
  const relays = await loadRelays()
  const init: PeerInit = { relays, iceServers: [], allowPrivateAddresses: needsPrivateAddresses(relays), roomNamespace: ROOM_NAMESPACE }
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

function linkTo (peer: Peer, peerId: string): Link | undefined {
  return peer.links().find(link => link.remotePeerId === peerId && !link.closed)
}

/** Redraws every member's badge and RTT from its link. */
function redrawLinks (peer: Peer): void {
  for (const [peerId, member] of members) {
    member.row.update(linkTo(peer, peerId))
  }
}

function nameOf (peerId: string): string {
  return members.get(peerId)?.name ?? shortId(peerId)
}

function addMember (peer: Peer, member: RoomMember): void {
  const name = nameFromMetadata(member.metadata, shortId(member.peerId))
  const existing = members.get(member.peerId)
  if (existing !== undefined) {
    existing.name = name
    existing.row.rename(name)
    return
  }
  const row = addMemberRow(member.peerId, name, () => { chooseFile(peer, member.peerId) })
  members.set(member.peerId, { name, row })
  row.update(linkTo(peer, member.peerId))
}

function removeMember (peerId: string): void {
  members.get(peerId)?.row.remove()
  members.delete(peerId)
  transfers.abandon(peerId, 'left the room')
}

function chooseFile (peer: Peer, peerId: string): void {
  ui.fileInput.value = ''
  ui.fileInput.onchange = () => {
    const file = ui.fileInput.files?.[0]
    const link = linkTo(peer, peerId)
    if (file === undefined || link === undefined) {
      return
    }
    void transfers.send(link, file, addTransfer('out', nameOf(peerId), file.name, file.size))
  }
  ui.fileInput.click()
}

function onMessage (peer: Peer, from: string, data: Uint8Array): void {
  const message = decode(data)
  const link = linkTo(peer, from)
  if (message === undefined) {
    return
  }
  if (message.kind === 'chat') {
    addMessage(nameOf(from), message.text)
  } else if (link !== undefined) {
    transfers.handle(from, message, link, (name, size) => addTransfer('in', nameOf(from), name, size))
  }
}

async function join (peer: Peer, name: string): Promise<void> {
  const displayName = ui.nameInput.value.trim() === '' ? loadName() : ui.nameInput.value.trim()
  saveName(displayName)
  await room?.leave()
  room = undefined
  clearMembers()
  members.clear()
  setChatEnabled(false)
  ui.roomState.textContent = `Joining "${name}"…`
  ui.shareLink.value = inviteLink(name)
  ui.copyLink.disabled = false
  if (roomFromHash(location.hash) !== name) {
    history.replaceState(null, '', inviteLink(name))
  }

  const joined = await peer.join(name, { metadata: JSON.stringify({ name: displayName }), autoConnect: true })
  room = joined
  joined.addEventListener('join', event => {
    addMember(peer, event.detail)
    addMessage('', `${nameOf(event.detail.peerId)} joined`)
  })
  joined.addEventListener('update', event => { addMember(peer, event.detail) })
  joined.addEventListener('leave', event => {
    addMessage('', `${nameOf(event.detail.peerId)} left`)
    removeMember(event.detail.peerId)
  })
  joined.addEventListener('message', event => { onMessage(peer, event.detail.from, event.detail.data) })
  for (const member of joined.members()) {
    addMember(peer, member)
  }
  ui.roomState.textContent = `In "${name}" as ${displayName}.`
  setChatEnabled(true)
}

async function main (): Promise<void> {
  const peer = await startPeer()
  ui.peerId.textContent = peer.peerId
  ui.nameInput.value = loadName()

  const status = peer.status()
  setOnline(status.online)
  renderRelays(status.relays)
  peer.addEventListener('online', event => { setOnline(event.detail) })
  peer.addEventListener('status', event => {
    renderRelays(event.detail.relays)
    redrawLinks(peer)
  })
  // links change path and RTT between status events too
  peer.addEventListener('link', event => {
    const link = event.detail
    link.addEventListener('pathchange', () => { redrawLinks(peer) })
    link.addEventListener('rtt', () => { redrawLinks(peer) })
    redrawLinks(peer)
  })

  const joinRoom = (name: string): void => {
    // one join at a time, in the order asked
    joining = joining.then(() => join(peer, name)).catch((err: unknown) => {
      ui.roomState.textContent = ''
      showError(err, `Joining "${name}" failed`)
    })
  }

  ui.roomForm.addEventListener('submit', event => {
    event.preventDefault()
    const name = ui.roomInput.value.trim()
    if (name !== '') {
      joinRoom(name)
    }
  })

  ui.copyLink.addEventListener('click', () => {
    ui.shareLink.select()
    run(async () => {
      await navigator.clipboard.writeText(ui.shareLink.value)
      ui.copyLink.textContent = 'Copied'
    }, 'Copying failed (the link is selected: press Ctrl+C)')
  })

  ui.chatForm.addEventListener('submit', event => {
    event.preventDefault()
    const text = ui.chatInput.value
    const current = room
    if (text === '' || current === undefined) {
      return
    }
    ui.chatInput.value = ''
    addMessage('me', text, true)
    run(() => current.send(encode({ kind: 'chat', text })), 'Sending failed')
  })

  // An invite link (#room=NAME) joins on load, and when pasted into this tab's address bar
  const joinFromHash = (): void => {
    const name = roomFromHash(location.hash)
    if (name !== undefined && name !== room?.name) {
      ui.roomInput.value = name
      joinRoom(name)
    }
  }
  window.addEventListener('hashchange', joinFromHash)
  joinFromHash()

  // Let the others see this member leave now rather than after a timeout
  window.addEventListener('pagehide', () => { run(() => peer.stop(), 'Stopping failed') })
}

main().catch((err: unknown) => {
  ui.online.textContent = 'not running'
  showError(err, 'The peer could not start')
})
