import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino'

// The one redaction list for both services: credentials, passwords, hashes and tokens never
// reach a log line, wherever they sit in a logged object.
export const redactedPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-internal-token"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'authorization',
  'cookie',
  'password',
  'currentPassword',
  'newPassword',
  'passwordHash',
  'hash',
  'token',
  'accessToken',
  'refreshToken',
  'refreshTokenHash',
  'internalApiToken',
  'credential',
  'mfaToken',
  'secret',
  'otpauthUri',
  'ciphertext',
  'recoveryCodes',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.passwordHash',
  '*.hash',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.refreshTokenHash',
  '*.internalApiToken',
  '*.credential',
  '*.mfaToken',
  '*.secret',
  '*.otpauthUri',
  '*.ciphertext',
  '*.recoveryCodes',
  '*.authorization',
]

export interface LoggerSettings {
  level: string
  /** Where lines go; stdout when absent. Tests pass a capturing stream. */
  stream?: DestinationStream
  base?: Record<string, unknown>
}

export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    base: settings.base ?? null,
    redact: { paths: redactedPaths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: {
      // Only what is needed to follow a request; the query string is dropped so nothing a
      // client put there lands in a log.
      req: (req: {
        method: string
        url: string
        ip?: string
        headers: Record<string, unknown>
      }) => ({
        method: req.method,
        path: req.url.split('?')[0],
        ip: req.ip,
        userAgent: req.headers['user-agent'],
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  }
  return pino(options, settings.stream ?? stdoutDestination())
}

/**
 * stdout written asynchronously: a log line never blocks the event loop on a slow pipe, and
 * lines that pile up under load leave in one write. Whatever is still buffered is written
 * synchronously when the process exits, so no line is lost at shutdown.
 */
let stdout: ReturnType<typeof pino.destination> | undefined
function stdoutDestination(): DestinationStream {
  if (!stdout) {
    const destination = pino.destination({ dest: 1, sync: false })
    process.once('exit', () => {
      destination.flushSync()
    })
    stdout = destination
  }
  return stdout
}
