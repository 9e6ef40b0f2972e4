/**
 * A first-in, first-out queue that takes from the front without shifting the array
 * each time: the taken slots are dropped now and then, once they are more than half of
 * it (and over COMPACT_AFTER), so a long queue costs O(1) per item.
 */

/** Taken slots kept before the array is compacted: a small queue never copies. */
const COMPACT_AFTER = 1024

export class Fifo<T> {
  private items: Array<T | undefined> = []
  private head = 0

  get length (): number {
    return this.items.length - this.head
  }

  push (item: T): void {
    this.items.push(item)
  }

  /** The first item, not taken. */
  peek (): T | undefined {
    return this.items[this.head]
  }

  shift (): T | undefined {
    if (this.head === this.items.length) {
      return undefined
    }
    const item = this.items[this.head]
    this.items[this.head++] = undefined
    if (this.head === this.items.length) {
      this.items = []
      this.head = 0
    } else if (this.head > COMPACT_AFTER && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return item
  }

  /** The item `index` places from the front, not taken. */
  at (index: number): T | undefined {
    return index < 0 ? undefined : this.items[this.head + index]
  }

  /** The items in order, as a new array. */
  toArray (): T[] {
    return this.items.slice(this.head) as T[]
  }
}
