import {
  BrokenCircuitError,
  circuitBreaker,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleType,
  handleWhen,
  retry,
  wrap,
} from 'cockatiel'
import { Compile } from 'typebox/compile'
import type { TSchema, Static } from 'typebox'
import { errors as undiciErrors, Pool } from 'undici'
import {
  authApiPaths,
  CredentialCheckResponseSchema,
  HashResponseSchema,
  JwksSchema,
  LoginResponseSchema,
  TokenResponseSchema,
  TotpEnrollResponseSchema,
  TotpVerifyResponseSchema,
  VerifyResponseSchema,
  type Jwks,
  type LoginResponse,
  type TokenRequest,
  type TokenResponse,
  type TotpEnrollRequest,
  type TotpEnrollResponse,
  type TotpVerifyRequest,
  type TotpVerifyResponse,
  type VerifyResponse,
} from './schemas.js'

export interface AuthApiClientOptions {
  baseUrl: string
  /** The service credential, sent as `Authorization: Bearer …`. */
  credential: string
  connectTimeoutMs?: number
  /** Whole-call deadline, retry included. */
  deadlineMs?: number
  connections?: number
  /** Consecutive failed calls that open the breaker. */
  breakerFailures?: number
  /** How long an open breaker fails fast before letting one call through. */
  breakerHalfOpenAfterMs?: number
  /**
   * After auth-api says it is at capacity, how long `busy()` tells callers so (default 100 ms):
   * they refuse new password work at once, without first spending their own CPU on it.
   */
  busyHoldMs?: number
}

export interface CallContext {
  /** Forwarded as `X-Request-Id`, so one request can be followed across both services. */
  requestId?: string
}

/** auth-api could not give an answer (down, stalled, overloaded, garbage): retry later. */
export class AuthApiUnavailableError extends Error {
  override name = 'AuthApiUnavailableError'
  constructor(
    message: string,
    readonly retryAfter: number,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/**
 * auth-api is healthy but at capacity (its hashing queue is full): passed on with its
 * Retry-After, and not held against it by the circuit breaker.
 */
export class AuthApiBusyError extends AuthApiUnavailableError {
  override name = 'AuthApiBusyError'
  /** Shed load: the service's error handler logs it once in a while, not for each request. */
  readonly loadShedding = true
}

/**
 * A refusal for lack of capacity, built without a stack: shed load is logged only as a count,
 * and capturing a stack was an eighth of what refusing a request cost users-api.
 */
function busyError(message: string, retryAfter: number): AuthApiBusyError {
  // A runtime that froze it (node --frozen-intrinsics) gets the error with its stack.
  if (Object.getOwnPropertyDescriptor(Error, 'stackTraceLimit')?.writable !== true)
    return new AuthApiBusyError(message, retryAfter)
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    return new AuthApiBusyError(message, retryAfter)
  } finally {
    Error.stackTraceLimit = limit
  }
}

/**
 * auth-api refused the request itself (4xx): retrying will not help. Its status and code are
 * for the logs: a caller's clients never see them (to them it is an internal error).
 */
export class AuthApiRejectedError extends Error {
  override name = 'AuthApiRejectedError'
  constructor(
    readonly status: number,
    readonly authApiCode: string | undefined,
  ) {
    const answer = `${status}${authApiCode ? ` ${authApiCode}` : ''}`
    super(
      status === 401
        ? `auth-api refused the service credential (${answer}): check INTERNAL_API_TOKEN`
        : `auth-api rejected the request with ${answer}`,
    )
  }
}

// No byte of a response was read: safe to send again.
class ConnectionFailure extends Error {
  override name = 'ConnectionFailure'
}

const maxResponseBytes = 64 * 1024
const connectionErrorCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
])

function isConnectionError(error: unknown): boolean {
  if (error instanceof undiciErrors.ConnectTimeoutError) return true
  const code = (error as { code?: string } | undefined)?.code
  return code !== undefined && connectionErrorCodes.has(code)
}

/**
 * auth-api's hint is passed on to our callers, within a bound: a full queue drains in seconds,
 * and an absurd value (or a proxy's) would otherwise reach every client as is.
 */
const maxRetryAfterSeconds = 60

function retryAfterSeconds(header: string | string[] | undefined): number {
  const value = Number(Array.isArray(header) ? header[0] : header)
  return Number.isFinite(value) && value > 0 ? Math.min(Math.ceil(value), maxRetryAfterSeconds) : 1
}

function checker<S extends TSchema>(schema: S): (value: unknown) => value is Static<S> {
  const compiled = Compile(schema)
  return (value: unknown): value is Static<S> => compiled.Check(value)
}

const isHashResponse = checker(HashResponseSchema)
const isVerifyResponse = checker(VerifyResponseSchema)
const isTokenResponse = checker(TokenResponseSchema)
const isLoginShape = checker(LoginResponseSchema)
// A token comes with a valid password and only then; anything else is not auth-api's answer.
const isLoginResponse = (value: unknown): value is LoginResponse =>
  isLoginShape(value) &&
  (value.valid
    ? value.accessToken !== undefined && value.expiresIn !== undefined
    : value.accessToken === undefined && value.expiresIn === undefined)
const isJwks = checker(JwksSchema)
const isCredentialCheck = checker(CredentialCheckResponseSchema)
const isTotpEnroll = checker(TotpEnrollResponseSchema)
const isTotpVerify = checker(TotpVerifyResponseSchema)

export class AuthApiClient {
  private readonly pool: Pool
  private readonly origin: URL
  private readonly deadlineMs: number
  private readonly policy
  private accepted = false
  /** performance.now() until which auth-api is taken to be at capacity. */
  private busyUntil = 0

  constructor(private readonly options: AuthApiClientOptions) {
    this.origin = new URL(options.baseUrl)
    this.deadlineMs = options.deadlineMs ?? 2000
    this.pool = new Pool(this.origin.origin, {
      connections: options.connections ?? 64,
      connectTimeout: options.connectTimeoutMs ?? 1000,
      headersTimeout: this.deadlineMs,
      bodyTimeout: this.deadlineMs,
      keepAliveTimeout: 30_000,
      maxResponseSize: maxResponseBytes,
    })
    const halfOpenAfter = options.breakerHalfOpenAfterMs ?? 5000
    const breaker = circuitBreaker(
      handleWhen(
        (error) => !(error instanceof AuthApiRejectedError || error instanceof AuthApiBusyError),
      ),
      { halfOpenAfter, breaker: new ConsecutiveBreaker(options.breakerFailures ?? 5) },
    )
    // One quick retry with jitter, only when nothing reached auth-api.
    const retryOnce = retry(handleType(ConnectionFailure), {
      maxAttempts: 1,
      backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 200 }),
    })
    this.policy = {
      run: wrap(breaker, retryOnce),
      halfOpenAfterSeconds: Math.ceil(halfOpenAfter / 1000),
    }
  }

  async hashPassword(password: string, ctx: CallContext = {}): Promise<string> {
    const body = await this.call('POST', authApiPaths.hash, { password }, isHashResponse, ctx)
    return body.hash
  }

  /** With `hash: null` auth-api verifies against a dummy hash, so a missing user costs the same. */
  async verifyPassword(
    password: string,
    hash: string | null,
    ctx: CallContext = {},
  ): Promise<VerifyResponse> {
    return this.call('POST', authApiPaths.verify, { password, hash }, isVerifyResponse, ctx)
  }

  async mintAccessToken(claims: TokenRequest, ctx: CallContext = {}): Promise<TokenResponse> {
    return this.call('POST', authApiPaths.tokens, claims, isTokenResponse, ctx)
  }

  /**
   * Verifies the password (against a dummy hash when `hash` is null, as `verifyPassword`) and,
   * only when it is right, mints an access token for `claims`: one call per password login.
   */
  async verifyAndMint(
    password: string,
    hash: string | null,
    claims: TokenRequest,
    ctx: CallContext = {},
  ): Promise<{ valid: boolean; needsRehash: boolean; token?: TokenResponse }> {
    const body = await this.call(
      'POST',
      authApiPaths.logins,
      { password, hash, token: claims },
      isLoginResponse,
      ctx,
    )
    const { valid, needsRehash, accessToken, expiresIn } = body
    return accessToken !== undefined && expiresIn !== undefined
      ? { valid, needsRehash, token: { accessToken, expiresIn } }
      : { valid, needsRehash }
  }

  /** A new TOTP secret: shown once in clear, stored by the caller only as `ciphertext`. */
  async enrollTotp(request: TotpEnrollRequest, ctx: CallContext = {}): Promise<TotpEnrollResponse> {
    return this.call('POST', authApiPaths.totpEnroll, request, isTotpEnroll, ctx)
  }

  /** Checks a code against a sealed secret; `ciphertext` in the answer replaces the stored one. */
  async verifyTotp(request: TotpVerifyRequest, ctx: CallContext = {}): Promise<TotpVerifyResponse> {
    return this.call('POST', authApiPaths.totpVerify, request, isTotpVerify, ctx)
  }

  async getJwks(ctx: CallContext = {}): Promise<Jwks> {
    return this.call('GET', authApiPaths.jwks, undefined, isJwks, ctx)
  }

  /**
   * True once auth-api has answered a call that needs the service credential with a 2xx (the
   * JWKS needs none). It stays true: a later outage is not a wrong credential.
   */
  get credentialAccepted(): boolean {
    return this.accepted
  }

  /**
   * Resolves when auth-api accepts the service credential, at the cost of the credential check
   * alone; AuthApiRejectedError (401) when it refuses it.
   */
  async checkCredential(ctx: CallContext = {}): Promise<void> {
    await this.call('GET', authApiPaths.credential, undefined, isCredentialCheck, ctx)
  }

  async close(): Promise<void> {
    await this.pool.close()
  }

  /**
   * auth-api refused work for lack of capacity moments ago: the refusal to give a new password
   * check now, before anything is spent on it. Its queue was over its wait budget, so holding
   * back briefly leaves its workers busy.
   */
  busy(): AuthApiBusyError | undefined {
    const left = this.busyUntil - performance.now()
    if (left <= 0) return undefined
    return busyError('auth-api is at capacity', Math.max(1, Math.ceil(left / 1000)))
  }

  private async call<T>(
    method: 'GET' | 'POST',
    path: string,
    payload: unknown,
    isValid: (value: unknown) => value is T,
    ctx: CallContext,
  ): Promise<T> {
    // A timer cleared on the answer: AbortSignal.timeout costs twice as much per call and,
    // whenever its timer fires, builds an exception and an event long after the answer.
    const deadline = new AbortController()
    const timer = setTimeout(() => {
      deadline.abort(new DOMException('auth-api deadline passed', 'TimeoutError'))
    }, this.deadlineMs)
    const signal = deadline.signal
    try {
      return await this.policy.run.execute(() =>
        this.send(method, path, payload, isValid, ctx, signal),
      )
    } catch (error) {
      if (error instanceof AuthApiRejectedError || error instanceof AuthApiUnavailableError)
        throw error
      if (error instanceof BrokenCircuitError) {
        throw new AuthApiUnavailableError(
          'auth-api is failing; calls are paused',
          this.policy.halfOpenAfterSeconds,
          {
            cause: error,
          },
        )
      }
      throw new AuthApiUnavailableError('auth-api did not answer', 1, { cause: error })
    } finally {
      clearTimeout(timer)
    }
  }

  private async send<T>(
    method: 'GET' | 'POST',
    path: string,
    payload: unknown,
    isValid: (value: unknown) => value is T,
    ctx: CallContext,
    signal: AbortSignal,
  ): Promise<T> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.options.credential}`,
      accept: 'application/json',
    }
    if (ctx.requestId) headers['x-request-id'] = ctx.requestId
    if (payload !== undefined) headers['content-type'] = 'application/json'
    let response
    try {
      response = await this.pool.request({
        method,
        path: new URL(path, this.origin).pathname,
        headers,
        body: payload === undefined ? null : JSON.stringify(payload),
        signal,
      })
    } catch (error) {
      if (isConnectionError(error) && !signal.aborted) {
        throw new ConnectionFailure('could not connect to auth-api', { cause: error })
      }
      throw new AuthApiUnavailableError('auth-api did not answer in time', 1, { cause: error })
    }
    const { statusCode } = response
    let body: unknown
    try {
      body = await response.body.json()
    } catch (error) {
      throw new AuthApiUnavailableError(`auth-api sent an unreadable ${statusCode} answer`, 1, {
        cause: error,
      })
    }
    if (statusCode >= 200 && statusCode < 300) {
      if (!isValid(body)) throw new AuthApiUnavailableError('auth-api sent a malformed answer', 1)
      if (path !== authApiPaths.jwks) this.accepted = true
      return body
    }
    if (statusCode === 503 || statusCode === 429) {
      this.busyUntil = performance.now() + (this.options.busyHoldMs ?? 100)
      throw busyError(
        `auth-api answered ${statusCode}`,
        retryAfterSeconds(response.headers['retry-after']),
      )
    }
    if (statusCode >= 500) throw new AuthApiUnavailableError(`auth-api answered ${statusCode}`, 1)
    const code = (body as { code?: unknown } | null)?.code
    throw new AuthApiRejectedError(statusCode, typeof code === 'string' ? code : undefined)
  }
}
