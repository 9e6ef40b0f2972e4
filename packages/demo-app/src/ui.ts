/** The page's elements and how SDK state is drawn into them. No SDK calls here. */
import { isLifelineError } from '@lifeline/sdk'
import type { LinkPath, LinkStatus, RelayStatus } from '@lifeline/sdk'

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
  shareLink: byId('share-link', HTMLInputElement),
  copyLink: byId('copy-link', HTMLButtonElement),
  relays: byId('relays', HTMLTableSectionElement),
  connectForm: byId('connect-form', HTMLFormElement),
  connectInput: byId('connect-input', HTMLInputElement),
  connectProgress: byId('connect-progress', HTMLParagraphElement),
  linksEmpty: byId('links-empty', HTMLParagraphElement),
  links: byId('links', HTMLUListElement),
  messages: byId('messages', HTMLOListElement),
  chatForm: byId('chat-form', HTMLFormElement),
  chatTo: byId('chat-to', HTMLSelectElement),
  chatInput: byId('chat-input', HTMLInputElement),
  chatSend: byId('chat-send', HTMLButtonElement)
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
    row.append(address, el('td', `state ${relay.state}`, relay.state), el('td', 'rtt', formatRtt(relay.rttMs)))
    return row
  }))
}

/** One entry of the Links list; `update()` redraws it from the link's current state. */
export interface LinkRow {
  update(link: { path: LinkPath, rttMs: number | undefined, closed: boolean }): void
  remove(): void
}

export function addLinkRow (peerId: string, direction: LinkStatus['direction'], onClose: () => void): LinkRow {
  const item = el('li', 'link')
  item.dataset.peer = peerId
  const name = el('code', '', shortId(peerId))
  name.title = peerId
  const badge = el('span', 'badge')
  const rtt = el('span', 'rtt')
  const close = el('button', '', 'Close')
  close.type = 'button'
  close.setAttribute('aria-label', `Close the link to ${peerId}`)
  close.addEventListener('click', onClose)
  item.append(name, el('span', 'hint', direction), badge, rtt, close)
  ui.links.append(item)
  ui.linksEmpty.hidden = true

  return {
    update ({ path, rttMs, closed }) {
      const shown: LinkPath | 'closed' = closed ? 'closed' : path
      badge.textContent = shown
      badge.className = `badge ${shown}`
      rtt.textContent = closed ? '' : `RTT ${formatRtt(rttMs)}`
      close.disabled = closed
    },
    remove () {
      item.remove()
      ui.linksEmpty.hidden = ui.links.childElementCount > 0
    }
  }
}

export function addMessage (direction: 'in' | 'out', peerId: string, text: string): void {
  const item = el('li', `message ${direction}`)
  const who = el('span', 'who', direction === 'in' ? `from ${shortId(peerId)}` : `to ${shortId(peerId)}`)
  who.title = peerId
  item.append(who, el('span', 'text', text))
  ui.messages.append(item)
  item.scrollIntoView({ block: 'nearest' })
}

/** Adds or removes a peer in the chat's "To" list; chat is enabled while it has one. */
export function setChatTarget (peerId: string, open: boolean): void {
  const existing = [...ui.chatTo.options].find(option => option.value === peerId)
  if (open && existing === undefined) {
    ui.chatTo.append(new Option(shortId(peerId), peerId, true, true))
  } else if (!open) {
    existing?.remove()
  }
  const none = ui.chatTo.options.length === 0
  ui.chatTo.disabled = none
  ui.chatInput.disabled = none
  ui.chatSend.disabled = none
}
