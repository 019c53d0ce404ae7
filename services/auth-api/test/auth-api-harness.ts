import { captureLogs, createLogger } from '@users-auth/service-kit'
import type { FastifyInstance } from 'fastify'
import { createAuthApi } from '../src/create-auth-api.js'
import type { Config } from '../src/config.js'
import { generateKeyRing, type KeyRing } from '../src/crypto/key-ring.js'

export const testCredential = 'test-credential-0123456789abcdef0123456789'

/** Cheap argon2 parameters: tests exercise the logic, not the cost. */
export const cheapEnv = {
  NODE_ENV: 'test',
  INTERNAL_API_TOKEN: testCredential,
  ARGON2_MEMORY_KIB: '1024',
  ARGON2_ITERATIONS: '1',
  LOG_LEVEL: 'info',
}

export interface Harness {
  app: FastifyInstance
  config: Config
  keyRing: KeyRing
  logs: () => string
}

export async function buildAuthApi(
  options: { env?: Record<string, string>; keyRing?: KeyRing; now?: () => number } = {},
): Promise<Harness> {
  const logs = captureLogs()
  const keyRing = options.keyRing ?? (await generateKeyRing())
  const { app, config } = await createAuthApi(
    { ...cheapEnv, ...options.env },
    {
      keyRing,
      logger: createLogger({ level: 'info', stream: logs.stream }),
      ...(options.now ? { now: options.now } : {}),
    },
  )
  await app.ready()
  return { app, config, keyRing, logs: logs.text }
}

export const bearer = { authorization: `Bearer ${testCredential}` }
