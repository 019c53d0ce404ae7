/** What `within` returns when it stopped waiting. */
export const timedOut: unique symbol = Symbol('timed out')

/**
 * The promise's value, or `timedOut` once `ms` have passed; a rejection that comes first is
 * thrown. The promise goes on unawaited after a time-out (a late rejection is then handled,
 * unseen), and the timer never outlives the wait. Each call keeps a small handler on the
 * promise until it settles: give it promises that do settle.
 */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof timedOut> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<typeof timedOut>((resolve) => {
    timer = setTimeout(resolve, ms, timedOut)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}
