import { describe, expect, it } from 'vitest'
import { timedOut, within } from '../src/time-limit.js'

describe('within', () => {
  it('gives the value, timedOut after the bound, and a rejection that comes first', async () => {
    expect(await within(Promise.resolve(7), 1000)).toBe(7)
    expect(await within(new Promise(() => {}), 20)).toBe(timedOut)
    await expect(within(Promise.reject(new Error('no')), 1000)).rejects.toThrow('no')
    // A rejection after the time-out is handled: nothing unhandled reaches the process.
    const late = new Promise((_resolve, reject) => setTimeout(reject, 40, new Error('late')))
    expect(await within(late, 10)).toBe(timedOut)
    await new Promise((resolve) => setTimeout(resolve, 60))
  })
})
