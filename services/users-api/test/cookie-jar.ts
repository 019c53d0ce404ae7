/**
 * The cookies one browser holds, for tests that talk to users-api with fetch (which keeps
 * none): what a response sets is sent back on later requests whose path matches; a cookie
 * set with `Max-Age=0` or a past `Expires` is dropped, as a browser does.
 */
export class CookieJar {
  readonly #cookies = new Map<string, { value: string; path: string }>()

  /** Sends the request with this jar's cookies and keeps what the answer sets. */
  async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers)
    const cookie = this.header(new URL(url))
    if (cookie) headers.set('cookie', cookie)
    const res = await fetch(url, { ...init, headers })
    this.keep(res)
    return res
  }

  keep(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim())
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq)
      let path = '/'
      let expired = false
      for (const attribute of attributes) {
        const [key = '', value = ''] = attribute.split('=')
        if (/^path$/i.test(key)) path = value
        if (/^max-age$/i.test(key) && Number(value) <= 0) expired = true
        if (/^expires$/i.test(key) && Date.parse(value) <= Date.now()) expired = true
      }
      if (expired) this.#cookies.delete(name)
      else this.#cookies.set(name, { value: pair.slice(eq + 1), path })
    }
  }

  /** The `Cookie` header this browser would send to `url`, or '' when none applies. */
  header(url: URL): string {
    return [...this.#cookies]
      .filter(([, { path }]) => url.pathname === path || url.pathname.startsWith(`${path}/`))
      .map(([name, { value }]) => `${name}=${value}`)
      .join('; ')
  }

  get size(): number {
    return this.#cookies.size
  }
}
