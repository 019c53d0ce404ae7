import type { TestProject } from 'vitest/node'
import { resolveMongo, type MongoBackend } from '../src/index.js'

// Resolves one MongoDB for the whole test run and hands its URI to every test file, which
// then works in a database of its own: inject('mongoUri') + databaseUri(uri, '<name>').

declare module 'vitest' {
  export interface ProvidedContext {
    mongoUri: string
    mongoBackend: MongoBackend
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const mongo = await resolveMongo()
  project.provide('mongoUri', mongo.uri)
  project.provide('mongoBackend', mongo.backend)
  return () => mongo.stop()
}
