import type { FastifyInstance, FastifyRequest } from 'fastify'
import FindMyWay from 'find-my-way'

// Catch-all routes (e.g. CORS preflight on `*`) would make every unknown path "known".
const catchAll = new Set(['*', '/*'])

/**
 * Keeps a second router holding every route's path and methods (Fastify's own router, fed by
 * the onRoute hook) and returns a lookup of the other methods a request's path accepts: a
 * known path with a wrong method is then 405 with `Allow`, not 404.
 */
export function registerMethodNotAllowed(
  app: FastifyInstance,
): (request: FastifyRequest) => string[] {
  const router = FindMyWay({ ignoreTrailingSlash: false, maxParamLength: 100 })
  const methods = new Set<string>()
  const add = (method: string, url: string): void => {
    methods.add(method)
    if (!router.hasRoute(method as 'GET', url)) router.on(method as 'GET', url, () => undefined)
  }
  app.addHook('onRoute', (route) => {
    if (catchAll.has(route.url)) return
    const list = Array.isArray(route.method) ? route.method : [route.method]
    // Fastify also answers HEAD for GET routes, and `/prefix/` beside `/prefix` for a prefixed
    // route declared as `/` (that second registration does not pass through onRoute).
    const urls = route.routePath === '' && route.prefix ? [route.url, `${route.url}/`] : [route.url]
    for (const url of urls) {
      for (const method of list) {
        add(method, url)
        if (method === 'GET' && route.exposeHeadRoute !== false) add('HEAD', url)
      }
    }
  })
  return (request) => {
    const path = (request.raw.url ?? '/').split('?', 1)[0] ?? '/'
    return [...methods]
      .filter((method) => method !== request.method && router.find(method as 'GET', path))
      .sort()
  }
}
