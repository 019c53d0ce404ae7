import autocannon from 'autocannon'
import { Pool } from 'undici'
import { LatencyRecorder } from './latency.js'
import type {
  ClosedLoopResult,
  ClosedLoopSpec,
  LoadReply,
  LoadRequest,
  OpenLoopResult,
  OpenLoopSpec,
  PrepareSpec,
  SeedSpec,
  StoreResult,
  Target,
} from './load-protocol.js'

// The load generator: a child process of the bench, so that its work is measured apart from the
// services' and never blocks the bench's own bookkeeping. It keeps the accounts and tokens that
// signup hands out, for the login, refresh and `me` scenarios that follow.

interface SessionBody {
  accessToken?: unknown
  refreshToken?: unknown
  user?: { email?: unknown }
}

const store = {
  runId: 'run',
  password: '',
  signups: 0,
  /** Emails of accounts that exist (created by signup). */
  accounts: [] as string[],
  /** One access token per created session, for `GET /v1/users/me`. */
  accessTokens: [] as string[],
  /** Live refresh tokens; each is spent once and replaced by the one its refresh returns. */
  refreshTokens: [] as string[],
  nextAccount: 0,
  nextAccessToken: 0,
  sessionsCreated: 0,
}

const json = { 'content-type': 'application/json' }

function nextEmail(): string {
  store.signups += 1
  return `u${store.signups}.${store.runId}@bench.example.com`
}

function remember(body: string): void {
  store.sessionsCreated += 1
  let parsed: SessionBody
  try {
    parsed = JSON.parse(body) as SessionBody
  } catch {
    return
  }
  const email = parsed.user?.email
  if (typeof email === 'string') store.accounts.push(email)
  if (typeof parsed.accessToken === 'string') store.accessTokens.push(parsed.accessToken)
  if (typeof parsed.refreshToken === 'string') store.refreshTokens.push(parsed.refreshToken)
}

function nextAccount(): string {
  const email = store.accounts[store.nextAccount % store.accounts.length]
  store.nextAccount += 1
  if (email === undefined) throw new Error('no accounts to log in with')
  return email
}

function nextAccessToken(): string {
  const token = store.accessTokens[store.nextAccessToken % store.accessTokens.length]
  store.nextAccessToken += 1
  if (token === undefined) throw new Error('no access tokens')
  return token
}

type RefreshContext = { token?: string } & object

/** The request list autocannon cycles through for one target. */
function requestsFor(target: Target): autocannon.Request[] {
  switch (target) {
    case 'healthz':
      return [{ method: 'GET', path: '/healthz' }]
    case 'signup':
      return [
        {
          method: 'POST',
          path: '/v1/auth/signup',
          headers: json,
          setupRequest: (request) => ({
            ...request,
            body: JSON.stringify({ email: nextEmail(), password: store.password }),
          }),
          onResponse: (status, body) => {
            if (status === 201) remember(body)
          },
        },
      ]
    case 'login':
      return [
        {
          method: 'POST',
          path: '/v1/auth/login',
          headers: json,
          setupRequest: (request) => ({
            ...request,
            body: JSON.stringify({ email: nextAccount(), password: store.password }),
          }),
          onResponse: (status) => {
            if (status === 200) store.sessionsCreated += 1
          },
        },
      ]
    case 'refresh':
      return [
        {
          method: 'POST',
          path: '/v1/auth/refresh',
          headers: json,
          setupRequest: (request, context: RefreshContext) => {
            const token = store.refreshTokens.shift()
            if (token === undefined) throw new Error('ran out of refresh tokens')
            context.token = token
            return { ...request, body: JSON.stringify({ refreshToken: token }) }
          },
          onResponse: (status, body, context: RefreshContext) => {
            if (status === 200) {
              const next = (JSON.parse(body) as SessionBody).refreshToken
              if (typeof next === 'string') store.refreshTokens.push(next)
            } else if (status !== 401 && context.token !== undefined) {
              // Not rotated (shed or failed before the swap): the token is still good.
              store.refreshTokens.push(context.token)
            }
          },
        },
      ]
    case 'me':
      return [
        {
          method: 'GET',
          path: '/v1/users/me',
          setupRequest: (request) => ({
            ...request,
            headers: { authorization: `Bearer ${nextAccessToken()}` },
          }),
        },
      ]
  }
}

function countStatus(counts: Record<string, number>, status: string): void {
  counts[status] = (counts[status] ?? 0) + 1
}

async function closedLoop(spec: ClosedLoopSpec): Promise<ClosedLoopResult> {
  // Each connection holds one session; a run that stops mid-request loses that session's token.
  if (spec.target === 'refresh' && store.refreshTokens.length < spec.connections) {
    throw new Error(
      `refresh needs ${spec.connections} sessions, have ${store.refreshTokens.length}`,
    )
  }
  const latency = new LatencyRecorder()
  const statusCounts: Record<string, number> = {}
  let ok = 0
  let responses = 0
  const started = process.hrtime.bigint()
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.baseUrl,
        connections: spec.connections,
        pipelining: 1,
        duration: spec.durationS,
        timeout: spec.timeoutS,
        requests: requestsFor(spec.target),
      },
      (error: unknown, outcome: autocannon.Result) => {
        if (error instanceof Error) reject(error)
        else if (error) reject(new Error('autocannon failed'))
        else resolve(outcome)
      },
    )
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      responses += 1
      countStatus(statusCounts, String(statusCode))
      if (statusCode >= 200 && statusCode < 300) {
        ok += 1
        latency.record(responseTime)
      }
    })
  })
  const elapsedS = Number(process.hrtime.bigint() - started) / 1e9
  return {
    target: spec.target,
    connections: spec.connections,
    elapsedS,
    ok,
    responses,
    statusCounts,
    socketErrors: result.errors,
    timeouts: result.timeouts,
    latency: latency.summary(),
  }
}

function bodyFor(target: OpenLoopSpec['target']): string {
  return target === 'login'
    ? JSON.stringify({ email: nextAccount(), password: store.password })
    : JSON.stringify({ email: nextEmail(), password: store.password })
}

function isTimeout(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name
  return name === 'TimeoutError' || name === 'AbortError'
}

/**
 * Starts requests at a fixed rate whatever the answers do (an open loop, as many independent
 * clients would), each with a client timeout, and waits for the last one to settle.
 */
async function openLoop(spec: OpenLoopSpec): Promise<OpenLoopResult> {
  const origin = new URL(spec.baseUrl).origin
  const pool = new Pool(origin, {
    connections: spec.maxConnections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: 0,
    bodyTimeout: 0,
  })
  const path = spec.target === 'login' ? '/v1/auth/login' : '/v1/auth/signup'
  const admitted = new LatencyRecorder()
  const shed = new LatencyRecorder()
  const statusCounts: Record<string, number> = {}
  let ok = 0
  let hung = 0
  let failed = 0
  const total = Math.max(1, Math.round(spec.rate * spec.durationS))
  const intervalMs = 1000 / spec.rate
  const inFlight = new Set<Promise<void>>()

  const fire = (): void => {
    const body = bodyFor(spec.target)
    const sentAt = performance.now()
    const job = pool
      .request({
        method: 'POST',
        path,
        headers: json,
        body,
        signal: AbortSignal.timeout(spec.timeoutMs),
      })
      .then(async (response) => {
        const text = await response.body.text()
        const ms = performance.now() - sentAt
        countStatus(statusCounts, String(response.statusCode))
        if (response.statusCode >= 200 && response.statusCode < 300) {
          ok += 1
          admitted.record(ms)
          if (spec.target === 'signup') remember(text)
          else store.sessionsCreated += 1
        } else if (response.statusCode === 503) {
          shed.record(ms)
        }
      })
      .catch((error: unknown) => {
        if (isTimeout(error)) hung += 1
        else failed += 1
      })
      .finally(() => {
        inFlight.delete(job)
      })
    inFlight.add(job)
  }

  const started = performance.now()
  let sent = 0
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor((performance.now() - started) / intervalMs) + 1)
      while (sent < due) {
        fire()
        sent += 1
      }
      if (sent >= total) {
        clearInterval(timer)
        resolve()
      }
    }
    const timer = setInterval(tick, Math.max(1, Math.min(10, intervalMs / 2)))
    tick()
  })
  // Every request carries its own timeout, so this wait is bounded by it.
  await Promise.all(inFlight)
  const elapsedS = (performance.now() - started) / 1000
  await pool.close()
  return {
    target: spec.target,
    offeredRate: spec.rate,
    elapsedS,
    sent,
    ok,
    statusCounts,
    hung,
    failed,
    timeoutMs: spec.timeoutMs,
    admitted: admitted.summary(),
    shed: shed.summary(),
  }
}

/** Creates accounts one batch at a time (bounded in count and time) for scenarios that need them. */
async function seed(spec: SeedSpec): Promise<StoreResult> {
  const pool = new Pool(new URL(spec.baseUrl).origin, { connections: spec.concurrency })
  const deadline = performance.now() + spec.timeLimitS * 1000
  const wanted = store.accounts.length + spec.accounts
  const refusals: Record<string, number> = {}
  let sample = ''
  let attempts = 0
  try {
    while (
      store.accounts.length < wanted &&
      attempts < spec.accounts * 3 &&
      performance.now() < deadline
    ) {
      const batch = Math.min(spec.concurrency, wanted - store.accounts.length)
      attempts += batch
      await Promise.all(
        Array.from({ length: batch }, async () => {
          const response = await pool.request({
            method: 'POST',
            path: '/v1/auth/signup',
            headers: json,
            body: JSON.stringify({ email: nextEmail(), password: store.password }),
            signal: AbortSignal.timeout(10_000),
          })
          const text = await response.body.text()
          if (response.statusCode === 201) remember(text)
          else {
            countStatus(refusals, String(response.statusCode))
            sample ||= text.slice(0, 300)
          }
        }),
      )
    }
  } finally {
    await pool.close()
  }
  if (store.accounts.length < wanted) {
    throw new Error(
      `could create only ${spec.accounts - (wanted - store.accounts.length)} of ${spec.accounts} accounts; refused: ${JSON.stringify(refusals)} ${sample}`,
    )
  }
  return storeCounts()
}

function storeCounts(): StoreResult {
  return {
    accounts: store.accounts.length,
    accessTokens: store.accessTokens.length,
    refreshTokens: store.refreshTokens.length,
    sessionsCreated: store.sessionsCreated,
  }
}

function prepare(spec: PrepareSpec): StoreResult {
  store.runId = spec.runId
  store.password = spec.password
  return storeCounts()
}

async function handle(request: LoadRequest): Promise<unknown> {
  const { command } = request
  switch (command.kind) {
    case 'prepare':
      return prepare(command)
    case 'seed':
      return seed(command)
    case 'store':
      return storeCounts()
    case 'closed':
      return closedLoop(command)
    case 'open':
      return openLoop(command)
  }
}

if (!process.send) throw new Error('load-child must be started with an IPC channel')
const send = process.send.bind(process)
process.on('message', (message: LoadRequest) => {
  handle(message).then(
    (result) => {
      send({ id: message.id, ok: true, result } satisfies LoadReply)
    },
    (error: unknown) => {
      const text = error instanceof Error ? (error.stack ?? error.message) : String(error)
      send({ id: message.id, ok: false, error: text } satisfies LoadReply)
    },
  )
})
// The bench going away ends the generator too.
process.on('disconnect', () => {
  process.exit(0)
})
