/** The page's elements and how SDK state is drawn into them. No SDK calls here. */
import { isLifelineError } from '@lifeline/sdk'
import type { LinkPath, RelayStatus } from '@lifeline/sdk'

function byId<T extends HTMLElement> (id: string, type: new () => T): T {
  const element = document.getElementById(id)
  if (!(element instanceof type)) {
    throw new Error(`The page has no <${type.name}> #${id}`)
  }
  return element
}

function el<K extends keyof HTMLElementTagNameMap> (tag: K, className: string, text = ''): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  element.className = className
  element.textContent = text
  return element
}

export const ui = {
  online: byId('online', HTMLElement),
  error: byId('error', HTMLDivElement),
  errorText: byId('error-text', HTMLParagraphElement),
  errorDismiss: byId('error-dismiss', HTMLButtonElement),
  peerId: byId('peer-id', HTMLElement),
  roomForm: byId('room-form', HTMLFormElement),
  roomInput: byId('room-input', HTMLInputElement),
  nameInput: byId('name-input', HTMLInputElement),
  roomState: byId('room-state', HTMLParagraphElement),
  shareLink: byId('share-link', HTMLInputElement),
  copyLink: byId('copy-link', HTMLButtonElement),
  membersEmpty: byId('members-empty', HTMLParagraphElement),
  members: byId('members', HTMLUListElement),
  messages: byId('messages', HTMLOListElement),
  chatForm: byId('chat-form', HTMLFormElement),
  chatInput: byId('chat-input', HTMLInputElement),
  chatSend: byId('chat-send', HTMLButtonElement),
  transfersEmpty: byId('transfers-empty', HTMLParagraphElement),
  transfers: byId('transfers', HTMLUListElement),
  fileInput: byId('file-input', HTMLInputElement),
  relays: byId('relays', HTMLTableSectionElement)
}

/** `CODE: message` for SDK errors, `Name: message` for anything else. */
export function describeError (err: unknown): string {
  if (isLifelineError(err)) {
    return `${err.code}: ${err.message}`
  }
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}

export function showError (err: unknown, context?: string): void {
  const text = describeError(err)
  ui.errorText.textContent = context === undefined ? text : `${context}: ${text}`
  ui.error.hidden = false
}

ui.errorDismiss.addEventListener('click', () => { ui.error.hidden = true })

export function formatRtt (ms: number | undefined): string {
  return ms === undefined ? '–' : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`
}

/** `12D3Ko…x9Yz7Q`: enough to tell peers apart in lists. */
export function shortId (peerId: string): string {
  return peerId.length > 16 ? `${peerId.slice(0, 6)}…${peerId.slice(-6)}` : peerId
}

export function setOnline (online: boolean): void {
  ui.online.textContent = online ? 'online' : 'offline: waiting for a relay reservation'
  ui.online.classList.toggle('ok', online)
}

export function renderRelays (relays: RelayStatus[]): void {
  ui.relays.replaceChildren(...relays.map(relay => {
    const row = el('tr', '')
    const address = el('td', '')
    address.append(el('code', 'multiaddr', relay.multiaddr))
    if (relay.lastError !== undefined && relay.state !== 'reserved') {
      address.append(el('div', 'hint', relay.lastError))
    }
    row.append(address, el('td', '', relay.transport ?? '–'), el('td', `state ${relay.state}`, relay.state), el('td', 'rtt', formatRtt(relay.rttMs)))
    return row
  }))
}

/** One entry of the Members list; `update()` redraws it from the member's link. */
export interface MemberRow {
  rename(name: string): void
  update(link: { path: LinkPath, rttMs: number | undefined, closed: boolean } | undefined): void
  remove(): void
}

export function addMemberRow (peerId: string, name: string, onSendFile: () => void): MemberRow {
  const item = el('li', 'link member')
  item.dataset.peer = peerId
  const shownName = el('span', 'name', name)
  const id = el('code', 'hint', shortId(peerId))
  id.title = peerId
  const badge = el('span', 'badge')
  const rtt = el('span', 'rtt')
  const send = el('button', 'send-file', 'Send file')
  send.type = 'button'
  send.setAttribute('aria-label', `Send a file to ${name}`)
  send.addEventListener('click', onSendFile)
  item.append(shownName, id, badge, rtt, send)
  ui.members.append(item)
  ui.membersEmpty.hidden = true

  return {
    rename (newName) {
      shownName.textContent = newName
      send.setAttribute('aria-label', `Send a file to ${newName}`)
    },
    update (link) {
      const shown: LinkPath | 'closed' | 'linking' = link === undefined ? 'linking' : link.closed ? 'closed' : link.path
      badge.textContent = shown
      badge.className = `badge ${shown}`
      rtt.textContent = link === undefined || link.closed ? '' : `RTT ${formatRtt(link.rttMs)}`
      send.disabled = link === undefined || link.closed
    },
    remove () {
      item.remove()
      ui.membersEmpty.hidden = ui.members.childElementCount > 0
    }
  }
}

export function clearMembers (): void {
  ui.members.replaceChildren()
  ui.membersEmpty.hidden = false
}

/** A chat line from `who` (this peer's own with `own`); with no `who`, a notice such as "Bob joined". */
export function addMessage (who: string, text: string, own = false): void {
  const item = el('li', who === '' ? 'message notice' : `message ${own ? 'out' : 'in'}`)
  item.append(el('span', 'who', who), el('span', 'text', text))
  ui.messages.append(item)
  item.scrollIntoView({ block: 'nearest' })
}

export function setChatEnabled (enabled: boolean): void {
  ui.chatInput.disabled = !enabled
  ui.chatSend.disabled = !enabled
}

/** One file on its way in or out, with a progress bar; a finished incoming file gets a download link. */
export function addTransfer (direction: 'in' | 'out', who: string, name: string, size: number): { progress(bytes: number): void, done(file?: Blob): void, failed(reason: string): void } {
  const item = el('li', 'transfer')
  const bar = el('progress', '')
  bar.max = Math.max(size, 1)
  bar.value = 0
  const status = el('span', 'status', '0 %')
  item.append(el('span', '', `${direction === 'out' ? 'to' : 'from'} ${who}: ${name} (${formatBytes(size)})`), bar, status)
  ui.transfers.prepend(item)
  ui.transfersEmpty.hidden = true
  return {
    progress (bytes) {
      bar.value = bytes
      status.textContent = `${Math.floor(100 * bytes / Math.max(size, 1))} %`
    },
    done (file) {
      bar.value = bar.max
      status.textContent = 'done'
      if (file !== undefined) {
        const link = el('a', '', 'Save')
        link.href = URL.createObjectURL(file)
        link.download = name
        item.append(link)
      }
    },
    failed (reason) {
      item.classList.add('failed')
      status.textContent = `failed: ${reason}`
    }
  }
}

function formatBytes (bytes: number): string {
  return bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : bytes >= 1024 ? `${(bytes / 1024).toFixed(0)} KiB` : `${bytes} B`
}
