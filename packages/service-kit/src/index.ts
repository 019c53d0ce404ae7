export { ConfigError, parseDuration, parseEnv, parseList } from './config.js'
export {
  buildProblem,
  problemContentType,
  sendProblem,
  type ErrorMapper,
  type Problem,
} from './error-handler.js'
export type { ReadinessCheck } from './health.js'
export { captureLogs } from './log-capture.js'
export { createLogger, redactedPaths, type LoggerSettings } from './logger.js'
export type { OpenApiInfo } from './openapi.js'
export { isProblemCode, problemCodes, type ProblemCode } from './problem-codes.js'
export {
  problemError,
  withRetryAfter,
  type ProblemError,
  type ProblemErrorClass,
  type ValidationIssue,
} from './problem-error.js'
export { problemResponses, ProblemSchema } from './problem-schema.js'
export { requestIdHeader } from './request-id.js'
export { listenWithGracefulShutdown, type ListenOptions } from './run-service.js'
export {
  createServiceApp,
  type LoadSheddingOptions,
  type ServiceApp,
  type ServiceAppOptions,
} from './service-app.js'
