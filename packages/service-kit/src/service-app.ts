import underPressure from '@fastify/under-pressure'
import { registerAjvFormats } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify'
import type { Registry } from 'prom-client'
import { registerProblemHandlers, type ErrorMapper } from './error-handler.js'
import { firstErrorValidatorCompiler } from './first-error-validator.js'
import { clientErrorHandler, frameworkErrors } from './framework-errors.js'
import { registerStrictJson } from './json-body.js'
import { securityHeaders } from './security-headers.js'
import { registerHealth, type ReadinessCheck } from './health.js'
import { registerMetrics } from './metrics.js'
import { registerOpenApi, type OpenApiInfo } from './openapi.js'
import { problemError, withRetryAfter } from './problem-error.js'
import { requestIdFrom, requestIdHeader } from './request-id.js'

export interface LoadSheddingOptions {
  /** Event-loop delay (ms) beyond which requests are shed with 503. */
  maxEventLoopDelayMs: number
  /** Heap in use (bytes) beyond which requests are shed; 0 disables the check. */
  maxHeapUsedBytes: number
  retryAfterSeconds: number
}

export interface ServiceAppOptions {
  logger: FastifyBaseLogger
  openapi: OpenApiInfo
  readiness?: ReadinessCheck[]
  /** Largest accepted request body, bytes (contract default 16 KiB). */
  bodyLimit?: number
  loadShedding?: LoadSheddingOptions | false
  /** Fastify's `trustProxy`: addresses/CIDRs whose X-Forwarded-For is believed. */
  trustProxy?: string[]
  /** Translate dependency errors (e.g. a database that is down) into catalogue errors. */
  errorMappers?: ErrorMapper[]
}

export interface ServiceApp {
  app: FastifyInstance
  metrics: Registry
}

const Overloaded = problemError('SERVICE_UNAVAILABLE', 'The service is overloaded; retry later.')

registerAjvFormats()

/**
 * A Fastify instance with the chassis both services share: request ids, redacted pino logs,
 * problem+json errors, security headers, body limit, strict validation, load shedding,
 * health, readiness, metrics and OpenAPI. The caller registers its routes, then `ready()`s.
 */
export async function createServiceApp(options: ServiceAppOptions): Promise<ServiceApp> {
  const app = Fastify({
    loggerInstance: options.logger,
    genReqId: requestIdFrom,
    // One line per request (an onResponse hook below) instead of Fastify's two: logging was a
    // fifth of each request's CPU in the benchmark's profiles.
    logController: new LogController({
      requestIdLogLabel: 'requestId',
      disableRequestLogging: true,
    }),
    bodyLimit: options.bodyLimit ?? 16 * 1024,
    requestTimeout: 30_000,
    // A request already arriving when the close begins is finished, not refused: the close
    // stops new connections and ends each open one after its answer (below).
    return503OnClosing: false,
    trustProxy: options.trustProxy && options.trustProxy.length > 0 ? options.trustProxy : false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
    routerOptions: { ignoreTrailingSlash: false },
    frameworkErrors,
    clientErrorHandler,
  })
  // Bodies are checked without type coercion; query and params are converted from strings.
  // The first error only, and cheap rules before patterns: no input is costly to refuse.
  app.setValidatorCompiler(firstErrorValidatorCompiler)

  let closing = false
  app.addHook('preClose', (done) => {
    closing = true
    done()
  })
  app.addHook('onResponse', (request, reply, done) => {
    request.log.info(
      { req: request, res: reply, responseTime: reply.elapsedTime },
      'request completed',
    )
    done()
  })
  // While draining, every answer (in-flight ones included) closes its keep-alive connection,
  // so close() does not wait on idle clients.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close')
    done(null, payload)
  })
  // JSON is the only request body the contract accepts, and a key may appear once.
  app.removeContentTypeParser('text/plain')
  registerStrictJson(app)

  registerProblemHandlers(app, options.errorMappers)
  const headers = Object.entries(
    securityHeaders({
      contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    }),
  )
  // One hook for every header each reply carries: each hook is a step in every request.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header(requestIdHeader, request.id)
    for (const [name, value] of headers) reply.header(name, value)
    done()
  })
  if (options.loadShedding !== false) {
    const shed = options.loadShedding ?? {
      maxEventLoopDelayMs: 1000,
      maxHeapUsedBytes: 0,
      retryAfterSeconds: 1,
    }
    await app.register(underPressure, {
      maxEventLoopDelay: shed.maxEventLoopDelayMs,
      ...(shed.maxHeapUsedBytes > 0 ? { maxHeapUsedBytes: shed.maxHeapUsedBytes } : {}),
      pressureHandler: () => {
        throw withRetryAfter(new Overloaded(), shed.retryAfterSeconds)
      },
    })
  }
  const metrics = registerMetrics(app)
  registerHealth(app, options.readiness ?? [])
  await registerOpenApi(app, options.openapi)
  return { app, metrics }
}
