export {
  ConfigError,
  parseDuration,
  parseEnv,
  parseList,
  serviceEnvFields,
  type Mode,
} from './config.js'
export { problemContentType, type ErrorMapper, type Problem } from './error-handler.js'
export { NotReadyState, type ReadinessCheck } from './health.js'
export { captureLogs } from './log-capture.js'
export { createLogger, type LoggerSettings } from './logger.js'
export { documentedOnly, type OpenApiInfo } from './openapi.js'
export { problemCodes, type ProblemCode } from './problem-codes.js'
export {
  problemError,
  withRetryAfter,
  type ProblemError,
  type ProblemErrorClass,
  type ValidationIssue,
} from './problem-error.js'
export { problemResponses } from './problem-schema.js'
export { listenWithGracefulShutdown, type ListenOptions } from './run-service.js'
export {
  createServiceApp,
  type LoadSheddingOptions,
  type ServiceApp,
  type ServiceAppOptions,
} from './service-app.js'
export { timedOut, within } from './time-limit.js'
export { startTracing, tracingEnabled, type Tracing } from './tracing.js'
