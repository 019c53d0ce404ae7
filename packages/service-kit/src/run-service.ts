import closeWithGrace from 'close-with-grace'
import type { FastifyInstance } from 'fastify'
import { timedOut, within } from './time-limit.js'

export interface ListenOptions {
  port: number
  host: string
  /**
   * Bound on the whole close after SIGTERM, ms: draining in-flight requests, the app's onClose
   * hooks and `afterClose`. Past it the process exits 1.
   */
  closeGraceMs?: number
  /**
   * Runs once the app is closed, its own onClose work included (e.g. flushing traces, so the
   * spans of that work are sent), and also when that close failed. An onClose hook added after
   * the app was built would run before the app's own: Fastify runs them last-added first.
   * Best effort: a failure is logged, and after `afterCloseMs` it is no longer waited for.
   */
  afterClose?: () => Promise<void>
  /** How long `afterClose` is waited for, ms. */
  afterCloseMs?: number
}

/**
 * Listens, then on SIGTERM/SIGINT stops accepting, lets in-flight requests finish (bounded),
 * runs the app's onClose hooks (pools, connections), then `afterClose`, and exits 0.
 */
export async function listenWithGracefulShutdown(
  app: FastifyInstance,
  options: ListenOptions,
): Promise<void> {
  closeWithGrace(
    { delay: options.closeGraceMs ?? 10_000, logger: app.log },
    async ({ signal, err }) => {
      if (err) app.log.error({ err }, 'closing after an unexpected error')
      else app.log.info({ signal }, 'closing')
      try {
        await app.close()
      } finally {
        if (options.afterClose) {
          await bestEffort(app, options.afterClose, options.afterCloseMs ?? 3000)
        }
      }
    },
  )
  await app.listen({ port: options.port, host: options.host })
}

/** Runs `work`, waiting at most `ms`; a failure or a timeout is logged, never thrown. */
async function bestEffort(
  app: FastifyInstance,
  work: () => Promise<void>,
  ms: number,
): Promise<void> {
  // Caught here (a synchronous throw too), so a failure after the time-out is still logged.
  const done = Promise.resolve()
    .then(work)
    .catch((error: unknown) => {
      app.log.warn({ err: error }, 'the work after close failed')
    })
  if ((await within(done, ms)) === timedOut) {
    app.log.warn({ ms }, 'gave up waiting for the work after close')
  }
}
