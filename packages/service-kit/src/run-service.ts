import closeWithGrace from 'close-with-grace'
import type { FastifyInstance } from 'fastify'

export interface ListenOptions {
  port: number
  host: string
  /** Bound on draining in-flight requests after SIGTERM, ms. */
  closeGraceMs?: number
  /**
   * Runs once the app is closed, its own onClose work included (e.g. flushing traces, so the
   * spans of that work are sent). An onClose hook added after the app was built would run
   * before the app's own: Fastify runs them last-added first.
   */
  afterClose?: () => Promise<void>
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
      await app.close()
      await options.afterClose?.()
    },
  )
  await app.listen({ port: options.port, host: options.host })
}
