import { describe, expect, it } from 'vitest'
import { isCatalogueError, problemError } from '../src/problem-error.js'

const frames = (error: Error): string[] =>
  (error.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l))

describe('problem errors', () => {
  it('capture no stack, being answers, but for INTERNAL, which is logged', () => {
    const NotFound = problemError('NOT_FOUND', 'There is no such thing.')
    const Unavailable = problemError('SERVICE_UNAVAILABLE', 'Try again later.')
    const Internal = problemError('INTERNAL', 'Something broke.')
    for (const error of [new NotFound(), new Unavailable()]) {
      expect(isCatalogueError(error)).toBe(true)
      expect(frames(error)).toEqual([])
    }
    const internal = new Internal()
    expect(isCatalogueError(internal)).toBe(true)
    expect(frames(internal).length).toBeGreaterThan(0)
    expect(new NotFound()).toMatchObject({ code: 'NOT_FOUND', statusCode: 404 })
  })
})
