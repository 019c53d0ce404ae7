import type { FastifyInstance } from 'fastify'
import { problemError, withRetryAfter } from './problem-error.js'

const NotReady = problemError('SERVICE_UNAVAILABLE', 'Not ready: %s not answering.')

export interface ReadinessCheck {
  name: string
  /** Resolves when the dependency answers; rejects (or times out) when it does not. */
  check: () => Promise<void>
}

const checkTimeoutMs = 2000

async function runCheck(check: ReadinessCheck): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new Error('timed out'))
    }, checkTimeoutMs)
  })
  try {
    await Promise.race([check.check(), timeout])
    return true
  } catch {
    return false
  } finally {
    clearTimeout(timer)
  }
}

/** `/healthz` never looks at dependencies; `/readyz` is 200 only when every check passes. */
export function registerHealth(app: FastifyInstance, checks: ReadinessCheck[]): void {
  app.get('/healthz', { schema: { hide: true }, logLevel: 'warn' }, () => ({ status: 'ok' }))
  app.get('/readyz', { schema: { hide: true }, logLevel: 'warn' }, async (request) => {
    const results = await Promise.all(checks.map(async (c) => [c.name, await runCheck(c)] as const))
    const failing = results.filter(([, ok]) => !ok).map(([name]) => name)
    if (failing.length === 0) return { status: 'ok' }
    request.log.warn({ failing }, 'not ready')
    throw withRetryAfter(new NotReady(failing.join(', ')), 1)
  })
}
