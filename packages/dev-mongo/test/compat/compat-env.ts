import { createRequire } from 'node:module'
import { MongoClient } from 'mongodb'
import mongoose9 from 'mongoose'
import { afterAll, expect, inject, it } from 'vitest'
import { databaseUri } from '../../src/index.js'
import { detectEngine, knownGaps, type Feature, type Refusal } from './known-gaps.js'

// What every compatibility test file shares: the backend the run resolved (see
// ../global-setup.ts), a database per file, and the mongoose majors under test.

export const backend = inject('mongoBackend')
const baseUri = inject('mongoUri')
/** What the backend really is (an external URI may be mongod, FerretDB or mongo-lite). */
export const engine = await detectEngine(baseUri)

/**
 * Mongoose 8 (on driver 6), loaded untyped: its types declare the module 'mongoose' globally
 * and would clash with mongoose 9's. It is typed as mongoose 9 instead; the API these tests
 * use is the same in both, and the point is what each sends on the wire.
 */
const mongoose8 = createRequire(import.meta.url)('mongoose8') as typeof mongoose9

/** The mongoose majors services may run on. */
export const mongooseVersions = [
  { label: 'mongoose 9 (driver 7)', key: 'm9', mongoose: mongoose9 },
  { label: 'mongoose 8 (driver 6)', key: 'm8', mongoose: mongoose8 },
]

/**
 * The URI of a database used only by the calling suite, dropped when the suite ends. Also
 * says which backend the suite runs against, so a log always shows what was tested.
 */
export function useDatabase(name: string): string {
  const uri = databaseUri(baseUri, `compat_${name}`)
  console.info(`compat ${name}: running against ${backend} (${engine})`)
  afterAll(async () => {
    const client = await new MongoClient(uri).connect()
    await client.db().dropDatabase()
    await client.close()
  })
  return uri
}

/** A MongoDB server error's code, or undefined for anything else (e.g. success). */
export async function errorCode(promise: PromiseLike<unknown>): Promise<unknown> {
  try {
    await promise
    return undefined
  } catch (error) {
    return (error as { code?: unknown }).code
  }
}

type Refused = Refusal['refused']

/**
 * A test of a MongoDB feature that some engine lacks (see known-gaps.ts). Where this engine
 * refuses the feature, the name says so and `body` gets the refusal to assert instead; where
 * it silently does something else, the test is skipped with the reason in its name.
 */
export function itWithGap(
  feature: Feature,
  name: string,
  body: (refused: Refused | undefined) => Promise<void>,
  timeout?: number,
): void {
  const gap = knownGaps[engine][feature]
  if (gap && 'diverges' in gap) {
    it.skip(`${name} [skipped on ${engine}: ${gap.diverges}]`, () => body(undefined))
  } else if (gap) {
    it(`${name} [${engine} refuses: ${gap.why}]`, () => body(gap.refused), timeout)
  } else {
    it(name, () => body(undefined), timeout)
  }
}

/** Asserts that `operation` fails with exactly the engine's known refusal. */
export async function expectRefusal(operation: PromiseLike<unknown>, refused: Refused) {
  const error = await Promise.resolve(operation).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toMatchObject(refused)
}
