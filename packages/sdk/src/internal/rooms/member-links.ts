/**
 * The links of a room's members, whose messages the room forwards as its own
 * `message` events. A link is listened to while its peer is a member and the link is
 * open; a member's new link (it closed and was opened again, either way) replaces
 * the old one.
 */
import type { Link, RoomMessage } from '../../types.js'

export interface MemberLinksComponents {
  /** The link this peer has to `peerId`, open or opening. */
  link(peerId: string): Link | undefined
  onMessage(message: RoomMessage): void
  /** The listened link of a member closed. */
  onClose(peerId: string): void
}

export class MemberLinks {
  private readonly components: MemberLinksComponents
  private readonly listening = new Map<string, { link: Link, remove: () => void }>()

  constructor (components: MemberLinksComponents) {
    this.components = components
  }

  /** Forward the messages of `peerId`'s link, if it has one. */
  listen (peerId: string): void {
    const link = this.components.link(peerId)
    if (link === undefined || link.closed || this.listening.get(peerId)?.link === link) {
      return
    }
    this.forget(peerId)
    const onMessage = (evt: CustomEvent<Uint8Array>): void => {
      this.components.onMessage({ from: peerId, data: evt.detail })
    }
    const onClose = (): void => {
      this.forget(peerId)
      this.components.onClose(peerId)
    }
    link.addEventListener('message', onMessage)
    link.addEventListener('close', onClose, { once: true })
    this.listening.set(peerId, {
      link,
      remove: () => {
        link.removeEventListener('message', onMessage)
        link.removeEventListener('close', onClose)
      }
    })
  }

  forget (peerId: string): void {
    this.listening.get(peerId)?.remove()
    this.listening.delete(peerId)
  }

  forgetAll (): void {
    for (const peerId of [...this.listening.keys()]) {
      this.forget(peerId)
    }
  }
}
