import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'

export interface Response {
  status: number
  headers: IncomingHttpHeaders
  text: string
  /** The body parsed as JSON; throws if it is not JSON. */
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- a typed view of a parsed body
  json<T = Record<string, unknown>>(): T
}

export interface RequestOptions {
  method?: string
  /** Sent as is: no normalisation, no encoding. */
  path: string
  headers?: Record<string, string | string[]>
  /** A value is sent as JSON; a string or Buffer as raw bytes (set content-type yourself). */
  body?: unknown
  /** Bearer token for the Authorization header. */
  token?: string
  timeoutMs?: number
}

/**
 * A plain HTTP/1.1 client that sends exactly what it is told (any method, raw paths, raw
 * bodies, duplicate headers), one connection per request, bounded in time.
 */
export function send(baseUrl: string, options: RequestOptions): Promise<Response> {
  const url = new URL(baseUrl)
  const headers: Record<string, string | string[]> = { ...options.headers }
  let payload: Buffer | undefined
  if (options.body !== undefined) {
    if (typeof options.body === 'string' || Buffer.isBuffer(options.body)) {
      payload = Buffer.from(options.body)
    } else {
      payload = Buffer.from(JSON.stringify(options.body))
      headers['content-type'] ??= 'application/json'
    }
    headers['content-length'] ??= String(payload.length)
  }
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
  const timeoutMs = options.timeoutMs ?? 15_000
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: options.method ?? 'GET',
        path: options.path,
        headers,
        agent: false,
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', reject)
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- as above
            json: <T>() => JSON.parse(text) as T,
          })
        })
      },
    )
    req.on('timeout', () => {
      req.destroy(
        new Error(`${options.method ?? 'GET'} ${options.path}: no answer in ${timeoutMs} ms`),
      )
    })
    req.on('error', reject)
    req.end(payload)
  })
}

/** Bound to one service's base URL. */
export function client(baseUrl: string) {
  return {
    send: (options: RequestOptions) => send(baseUrl, options),
    get: (path: string, token?: string) =>
      send(baseUrl, { path, ...(token === undefined ? {} : { token }) }),
    post: (path: string, body: unknown, token?: string) =>
      send(baseUrl, { method: 'POST', path, body, ...(token === undefined ? {} : { token }) }),
    patch: (path: string, body: unknown, token?: string) =>
      send(baseUrl, { method: 'PATCH', path, body, ...(token === undefined ? {} : { token }) }),
    delete: (path: string, body?: unknown, token?: string) =>
      send(baseUrl, {
        method: 'DELETE',
        path,
        ...(body === undefined ? {} : { body }),
        ...(token === undefined ? {} : { token }),
      }),
  }
}

export type Client = ReturnType<typeof client>

export const problemContentType = 'application/problem+json; charset=utf-8'

export interface ProblemBody {
  type: string
  title: string
  status: number
  detail: string
  code: string
  traceId: string
  errors?: { path: string; message: string }[]
}

/**
 * Asserts an RFC 9457 answer with the contract's status and code (and the trace id of the
 * request), and returns its body.
 */
export function expectProblem(res: Response, status: number, code: string): ProblemBody {
  const where = `${String(res.status)} ${res.text.slice(0, 500)}`
  if (res.status !== status) throw new Error(`expected ${status} ${code}, got ${where}`)
  if (res.headers['content-type'] !== problemContentType) {
    throw new Error(`expected problem+json, got ${String(res.headers['content-type'])}: ${where}`)
  }
  const body = res.json<ProblemBody>()
  if (body.code !== code || body.status !== status) {
    throw new Error(`expected code ${code}, got ${where}`)
  }
  for (const field of ['type', 'title', 'detail', 'traceId'] as const) {
    if (typeof body[field] !== 'string') throw new Error(`problem without ${field}: ${where}`)
  }
  if (body.traceId !== res.headers['x-request-id']) {
    throw new Error(`traceId ${body.traceId} is not the request id: ${where}`)
  }
  return body
}

/** The problem body without its per-request trace id, for comparing two answers. */
export function withoutTraceId(body: ProblemBody): Omit<ProblemBody, 'traceId'> {
  const { traceId: _traceId, ...rest } = body
  return rest
}
