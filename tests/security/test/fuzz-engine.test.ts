import { describe, expect, it } from 'vitest'
import { fuzz, mutate, random } from '../src/fuzz/engine.js'
import { plantedBug } from './fixtures/planted-bug.js'

// The coverage-guided engine behind `pnpm fuzz`, checked on a known answer: it must find a
// bug that blind mutation practically never reaches, and be reproducible from its seed.

describe('coverage-guided fuzz engine', () => {
  it('finds a bug behind nested comparisons, guided by V8 block coverage', async () => {
    const stats = await fuzz(
      {
        name: 'planted',
        seeds: [Buffer.from('seed')],
        maxLength: 16,
        covers: (url) => url.includes('planted-bug'),
        run: plantedBug,
      },
      { seed: 7, timeMs: 30_000, maxRuns: 200_000, stopOnCrash: true },
    )
    expect(
      stats.crashes.length,
      `${String(stats.runs)} runs, ${String(stats.features)} features`,
    ).toBe(1)
    expect(stats.crashes[0]?.input.subarray(0, 3).toString()).toBe('FUZ')
    expect(stats.crashes[0]?.error).toContain('planted bug reached')
    // Each comparison passed is a new coverage feature, and so a corpus entry.
    expect(stats.corpus).toBeGreaterThanOrEqual(3)
  })

  it('is reproducible: the same seed gives the same mutations', () => {
    const run = (seed: number) => {
      const rand = random(seed)
      return Array.from({ length: 50 }, () =>
        mutate(Buffer.from('hello world'), rand, [], [Buffer.from('$db')], 64).toString('hex'),
      )
    }
    expect(run(3)).toEqual(run(3))
    expect(run(3)).not.toEqual(run(4))
  })
})
