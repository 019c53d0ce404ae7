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
    const headers: Record<string, string> = credential
      ? { authorization: `Bearer ${credential}` }
      : {}
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(5000) })
    const text = await response.text()
    return response.ok ? parseMetrics(text) : null
  } catch {
    return null
  }
}

/** The increase of each series named `name` between two scrapes, summed by `keyOf` its labels. */
export function deltas(
  before: Scrape | null,
  after: Scrape | null,
  name: string,
  keyOf: (labels: Labels) => string | null,
): Record<string, number> {
  const sums: Record<string, number> = {}
  for (const [series, value] of before ? (after ?? []) : []) {
    if (series !== name && !series.startsWith(`${name}{`)) continue
    const labels: Labels = {}
    for (const [, label = '', v = ''] of series.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[label] = v
    const key = keyOf(labels)
    const delta = value - (before?.get(series) ?? 0)
    if (key !== null && delta > 0) sums[key] = (sums[key] ?? 0) + delta
  }
  return sums
}

/** Observations and their total milliseconds in the matching series of a histogram. */
function observed(
  before: Scrape | null,
  after: Scrape | null,
  histogram: string,
  match: (l: Labels) => boolean,
) {
  const total = (suffix: string): number =>
    deltas(before, after, `${histogram}_${suffix}`, (l) => (match(l) ? '' : null))[''] ?? 0
  return before && after ? { count: total('count'), ms: total('sum') * 1000 } : null
}

/** Where a request's time went, in mean milliseconds per users-api request (2xx answers). */
export interface Breakdown {
  requests: number
  /** As the load generator saw it. */
  clientMs: number | null
  /** users-api's own measure of the route. */
  usersApiMs: number
  /** auth-api's route time (hash, verify, tokens), and its argon2 job time (queue wait excluded). */
  authApiMs: number | null
  argon2Ms: number | null
}

export interface ServiceScrapes {
  users: Scrape | null
  auth: Scrape | null
}

/** The breakdown of one users-api route between two pairs of scrapes. */
export function breakdown(
  before: ServiceScrapes,
  after: ServiceScrapes,
  route: string,
  clientMs: number | null,
): Breakdown | null {
  const duration = 'http_request_duration_seconds'
  const users = observed(
    before.users,
    after.users,
    duration,
    (l) => l.route === route && /^2/.test(l.status_code ?? ''),
  )
  if (!users || users.count === 0) return null
  const authRoute = /^\/v1\/(passwords\/(hash|verify)|tokens)$/
  const auth = observed(before.auth, after.auth, duration, (l) => authRoute.test(l.route ?? ''))
  const argon2 = observed(before.auth, after.auth, 'auth_password_job_duration_seconds', () => true)
  return {
    ...{ requests: users.count, clientMs, usersApiMs: users.ms / users.count },
    authApiMs: auth && auth.ms / users.count,
    argon2Ms: argon2 && argon2.ms / users.count,
  }
}

/** Requests answered per route and status between two scrapes, e.g. `POST /v1/tokens 200`. */
export const answersBetween = (before: Scrape | null, after: Scrape | null) =>
  deltas(before, after, 'http_request_duration_seconds_count', (l) =>
    [l.method, l.route, l.status_code].map((v) => v ?? '?').join(' '),
  )

/** argon2 jobs auth-api finished between two scrapes, by operation. */
export const jobsBetween = (before: Scrape | null, after: Scrape | null) =>
  deltas(before, after, 'auth_password_job_duration_seconds_count', (l) => l.operation ?? '?')
