/** True for ioredis errors that mean "Redis cannot be reached" (the throttle then fails closed). */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  // ioredis leaves `name` as 'Error' on this one; its class says what happened.
  if (error.constructor.name === 'MaxRetriesPerRequestError') return true
  return /Connection is closed|ECONNREFUSED|Stream isn't writeable|enableOfflineQueue|ETIMEDOUT/.test(
    error.message,
  )
}
