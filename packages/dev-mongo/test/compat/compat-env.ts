import { createRequire } from 'node:module'
import { MongoClient } from 'mongodb'
import mongoose9 from 'mongoose'
import { afterAll, inject } from 'vitest'
import { databaseUri } from '../../src/index.js'

// What every compatibility test file shares: the backend the run resolved (see
// ../global-setup.ts), a database per file, and the mongoose majors under test.

export const backend = inject('mongoBackend')
const baseUri = inject('mongoUri')

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
  console.info(`compat ${name}: running against ${backend}`)
  afterAll(async () => {
    const client = await new MongoClient(uri).connect()
    await client.db().dropDatabase()
    await client.close()
  })
  return uri
}

/** A MongoDB server error's code, or undefined for anything else (e.g. success). */
export async function errorCode(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
    return undefined
  } catch (error) {
    return (error as { code?: unknown }).code
  }
}
