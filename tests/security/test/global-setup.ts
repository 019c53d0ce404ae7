import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { resolveMongo } from '@users-auth/dev-mongo'
import type { TestProject } from 'vitest/node'
import { findLeaks, privateKeyMaterial } from '../src/log-secrets.js'
import { startPair, type PairInfo } from '../src/pair.js'

declare module 'vitest' {
  export interface ProvidedContext {
    pair: PairInfo
    /** MongoDB deployment without a database, for test files that start a pair of their own. */
    mongoBaseUri: string
    /** Both services' log lines (stdout and stderr), appended as they come. */
    logFile: string
  }
}

/**
 * One MongoDB and one users-api + auth-api pair, as processes, for the whole suite. The IP
 * limit is raised so the suite's own traffic from 127.0.0.1 is not throttled; everything else
 * keeps its production default. At the end, both services' logs are searched for secrets.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const mongo = await resolveMongo()
  const dir = mkdtempSync(join(tmpdir(), 'security-suite-'))
  const logFile = join(dir, 'services.log')
  writeFileSync(logFile, '')
  const pair = await startPair({
    mongoBaseUri: mongo.uri,
    usersEnv: { RATE_LIMIT_IP_MAX: '100000' },
    logFile,
    withAdmin: true,
  }).catch(async (error: unknown) => {
    await mongo.stop()
    throw error
  })
  const info: PairInfo = {
    usersUrl: pair.usersUrl,
    authUrl: pair.authUrl,
    mongoUri: pair.mongoUri,
    credential: pair.credential,
    privateJwks: pair.privateJwks,
    issuer: pair.issuer,
    audience: pair.audience,
    admin: pair.admin,
  }
  project.provide('pair', info)
  project.provide('mongoBaseUri', mongo.uri)
  project.provide('logFile', logFile)

  return async () => {
    await pair.stop()
    await mongo.stop()
    const leaks = findLeaks(readFileSync(logFile, 'utf8'), [
      pair.credential,
      ...privateKeyMaterial(pair.privateJwks),
    ])
    if (leaks.length > 0) {
      // Vitest reports an error thrown here but still exits 0 without this.
      process.exitCode = 1
      throw new Error(
        `secrets in the services' logs (${logFile}):\n${leaks.map((l) => `${l.kind}: ${l.line}`).join('\n')}`,
      )
    }
    rmSync(dir, { recursive: true, force: true })
  }
}
