// The services' own Prometheus counters, read before and after a measurement: the mean time
// each service spent per request on a route, and auth-api's mean argon2 job time, tell where a
// request's latency goes (client and network, users-api itself, auth-api, argon2).

export type Scrape = Map<string, number>

/** Series of a Prometheus text exposition, keyed `name{label="value",…}` as printed. */
export function parseMetrics(text: string): Scrape {
  const series: Scrape = new Map()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const cut = line.lastIndexOf(' ')
    const value = Number(line.slice(cut + 1))
    if (cut > 0 && Number.isFinite(value)) series.set(line.slice(0, cut), value)
  }
  return series
}

export async function scrape(url: string, credential?: string): Promise<Scrape | null> {
  try {
    const response = await fetch(url, {
      headers: credential ? { authorization: `Bearer ${credential}` } : {},
      signal: AbortSignal.timeout(5000),
    })
    const text = await response.text()
    return response.ok ? parseMetrics(text) : null
  } catch {
    return null
  }
}

function labelsOf(key: string): Record<string, string> {
  const open = key.indexOf('{')
  if (open < 0) return {}
  const labels: Record<string, string> = {}
  for (const match of key.slice(open + 1, -1).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
    labels[match[1] ?? ''] = match[2] ?? ''
  }
  return labels
}

function total(s: Scrape, name: string, want: Record<string, string | RegExp>): number {
  let sum = 0
  for (const [key, value] of s) {
    if (!key.startsWith(`${name}{`) && key !== name) continue
    const labels = labelsOf(key)
    const matches = Object.entries(want).every(([label, expected]) => {
      const actual = labels[label] ?? ''
      return typeof expected === 'string' ? actual === expected : expected.test(actual)
    })
    if (matches) sum += value
  }
  return sum
}

export interface MeanTime {
  count: number
  /** Mean duration in milliseconds, or null without observations. */
  meanMs: number | null
}

/** Mean of a histogram's observations (matching `labels`) made between two scrapes. */
export function meanBetween(
  before: Scrape | null,
  after: Scrape | null,
  histogram: string,
  labels: Record<string, string | RegExp>,
): MeanTime | null {
  if (!before || !after) return null
  const count =
    total(after, `${histogram}_count`, labels) - total(before, `${histogram}_count`, labels)
  const seconds =
    total(after, `${histogram}_sum`, labels) - total(before, `${histogram}_sum`, labels)
  return { count, meanMs: count > 0 ? (seconds * 1000) / count : null }
}

/** Where a request's time went, in mean milliseconds per users-api request. */
export interface Breakdown {
  requests: number
  /** As the load generator saw it (2xx answers). */
  clientMs: number | null
  /** users-api's own measure of the route (2xx answers). */
  usersApiMs: number | null
  /** auth-api's route time (hash, verify, tokens) per users-api request. */
  authApiMs: number | null
  /** argon2 job time inside auth-api per users-api request (queue wait excluded). */
  argon2Ms: number | null
}

export interface ServiceScrapes {
  users: Scrape | null
  auth: Scrape | null
}

const authRoutes = /^\/v1\/(passwords\/(hash|verify)|tokens)$/

/** The breakdown of one users-api route between two pairs of scrapes. */
export function breakdown(
  before: ServiceScrapes,
  after: ServiceScrapes,
  route: string,
  clientMs: number | null,
): Breakdown | null {
  const users = meanBetween(before.users, after.users, 'http_request_duration_seconds', {
    route,
    status_code: /^2/,
  })
  if (!users || users.count === 0 || users.meanMs === null) return null
  const perUsersRequest = (mean: MeanTime | null): number | null =>
    mean?.meanMs == null ? (mean ? 0 : null) : (mean.meanMs * mean.count) / users.count
  return {
    requests: users.count,
    clientMs,
    usersApiMs: users.meanMs,
    authApiMs: perUsersRequest(
      meanBetween(before.auth, after.auth, 'http_request_duration_seconds', {
        route: authRoutes,
      }),
    ),
    argon2Ms: perUsersRequest(
      meanBetween(before.auth, after.auth, 'auth_password_job_duration_seconds', {}),
    ),
  }
}

/** Requests answered per route and status between two scrapes, e.g. `POST /v1/tokens 200`. */
export function answersBetween(
  before: Scrape | null,
  after: Scrape | null,
): Record<string, number> {
  const answers: Record<string, number> = {}
  if (!before || !after) return answers
  for (const [key, value] of after) {
    if (!key.startsWith('http_request_duration_seconds_count{')) continue
    const delta = value - (before.get(key) ?? 0)
    if (delta <= 0) continue
    const l = labelsOf(key)
    answers[`${l.method ?? '?'} ${l.route ?? '?'} ${l.status_code ?? '?'}`] = delta
  }
  return answers
}

/** argon2 jobs auth-api finished between two scrapes, by operation. */
export function jobsBetween(before: Scrape | null, after: Scrape | null): Record<string, number> {
  const jobs: Record<string, number> = {}
  if (!before || !after) return jobs
  for (const [key, value] of after) {
    if (!key.startsWith('auth_password_job_duration_seconds_count')) continue
    const delta = value - (before.get(key) ?? 0)
    if (delta > 0) jobs[labelsOf(key).operation ?? '?'] = delta
  }
  return jobs
}
