import type { FastifyInstance } from 'fastify'
import { buildProblem, type Problem, sendProblem } from './error-handler.js'
import { problemError } from './problem-error.js'
import { timedOut, within } from './time-limit.js'

// The checks' states are in `checks`; "not answering" would be wrong for a refused credential.
const NotReady = problemError('SERVICE_UNAVAILABLE', 'Not ready: waiting for %s.')

export interface ReadinessCheck {
  name: string
  /**
   * Resolves when the dependency answers; rejects (or times out) when it does not. Rejecting
   * with a `NotReadyState` names the state `/readyz` shows instead of "failing".
   */
  check: () => Promise<void>
}

/** A readiness failure with a word for it that is safe to show (e.g. "credential refused"). */
export class NotReadyState extends Error {
  override name = 'NotReadyState'
  constructor(
    readonly state: string,
    options?: { cause?: unknown },
  ) {
    super(state, options)
  }
}

const checkTimeoutMs = 2000

/** "ok", or the state that keeps the replica unready; never a dependency's own message. */
async function runCheck(check: ReadinessCheck): Promise<string> {
  try {
    return (await within(check.check(), checkTimeoutMs)) === timedOut ? 'timed out' : 'ok'
  } catch (error) {
    return error instanceof NotReadyState ? error.state : 'failing'
  }
}

/**
 * `/healthz` never looks at dependencies; `/readyz` is 200 only when every check passes, and
 * names each check's state either way (on 503 inside the problem body, as `checks`).
 */
export function registerHealth(app: FastifyInstance, checks: ReadinessCheck[]): void {
  app.get('/healthz', { schema: { hide: true }, logLevel: 'warn' }, () => ({ status: 'ok' }))
  app.get('/readyz', { schema: { hide: true }, logLevel: 'warn' }, async (request, reply) => {
    const results = await Promise.all(checks.map(async (c) => [c.name, await runCheck(c)] as const))
    const states: Record<string, string> = Object.fromEntries(results)
    const failing = results.filter(([, state]) => state !== 'ok').map(([name]) => name)
    if (failing.length === 0) return { status: 'ok', checks: states }
    request.log.warn({ checks: states }, 'not ready')
    const problem: Problem & { checks: Record<string, string> } = {
      ...buildProblem(request, new NotReady(failing.join(', '))),
      checks: states,
    }
    return sendProblem(reply, problem, 1)
  })
}
