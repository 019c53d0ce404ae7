// The services' own Prometheus counters, read before and after a measurement: the mean time
// each service spent per request on a route, and auth-api's mean argon2 job time, tell where a
// request's latency goes (client and network, users-api itself, auth-api, argon2).

/** Series of a Prometheus text exposition, keyed `name{label="value",…}` as printed. */
export type Scrape = Map<string, number>
type Labels = Record<string, string>

export function parseMetrics(text: string): Scrape {
  const series: Scrape = new Map()
  for (const line of text.split('\n')) {
    const cut = line.lastIndexOf(' ')
    const value = Number(line.slice(cut + 1))
    if (cut > 0 && !line.startsWith('#') && Number.isFinite(value)) {
      series.set(line.slice(0, cut), value)
    }
  }
  return series
}

export async function scrape(url: string, credential?: string): Promise<Scrape | null> {
  try {
    const headers = credential ? { authorization: `Bearer ${credential}` } : undefined
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(5000) })
    const text = await response.text()
    return response.ok ? parseMetrics(text) : null
  } catch {
    return null
  }
}

/** Observations of a histogram's matching series between two scrapes, and their total in ms. */
function observed(
  before: Scrape | null,
  after: Scrape | null,
  histogram: string,
  match: (labels: Labels) => boolean,
): { count: number; ms: number } | null {
  if (!before || !after) return null
  const total = { count: 0, ms: 0 }
  for (const [series, value] of after) {
    const [, name, part, labelText = ''] = /^(\w+)_(count|sum)(?:\{(.*)\})?$/.exec(series) ?? []
    if (name !== histogram) continue
    const labels: Labels = {}
    for (const [, key = '', v = ''] of labelText.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key] = v
    }
    const delta = match(labels) ? value - (before.get(series) ?? 0) : 0
    if (part === 'count') total.count += delta
    else total.ms += delta * 1000
  }
  return total
}

/** Where a request's time went, in mean milliseconds per users-api request (2xx answers). */
export interface Breakdown {
  requests: number
  /** As the load generator saw it. */
  clientMs: number | null
  /** users-api's own measure of the route. */
  usersApiMs: number
  /** auth-api's route time (hash, verify, tokens, logins), and its argon2 job time (queue wait excluded). */
  authApiMs: number | null
  argon2Ms: number | null
}

type ServiceScrapes = Record<'users' | 'auth', Scrape | null>

/** The breakdown of one users-api route between two pairs of scrapes. */
export function breakdown(
  before: ServiceScrapes,
  after: ServiceScrapes,
  route: string,
  clientMs: number | null,
): Breakdown | null {
  const duration = 'http_request_duration_seconds'
  const ok = (l: Labels): boolean => l.route === route && l.status_code?.startsWith('2') === true
  const users = observed(before.users, after.users, duration, ok)
  if (!users || users.count === 0) return null
  const authRoute = /^\/v1\/(passwords\/(hash|verify)|tokens|logins)$/
  const auth = observed(before.auth, after.auth, duration, (l) => authRoute.test(l.route ?? ''))
  const argon2 = observed(before.auth, after.auth, 'auth_password_job_duration_seconds', () => true)
  return {
    ...{ requests: users.count, clientMs, usersApiMs: users.ms / users.count },
    authApiMs: auth && auth.ms / users.count,
    argon2Ms: argon2 && argon2.ms / users.count,
  }
}
