import { describe, expect, it } from 'vitest'
import { Fifo } from './fifo.js'

describe('Fifo', () => {
  it('hands items back in order across compactions', () => {
    const fifo = new Fifo<number>()
    const taken: number[] = []
    for (let i = 0; i < 5000; i++) {
      fifo.push(i)
      if (i % 3 === 0) {
        taken.push(fifo.shift() ?? -1)
      }
    }
    expect(fifo.peek()).toBe(taken.length)
    expect(fifo.length).toBe(5000 - taken.length)
    const rest = fifo.toArray()
    expect([...taken, ...rest]).toEqual(Array.from({ length: 5000 }, (_, i) => i))
    while (fifo.shift() !== undefined) {
      // drain
    }
    expect(fifo.length).toBe(0)
    expect(fifo.shift()).toBeUndefined()
  })
})
