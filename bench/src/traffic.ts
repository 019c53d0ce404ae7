import type autocannon from 'autocannon'

// What each scenario sends: signups create accounts and sessions whose emails and tokens the
// login, refresh and `me` scenarios that follow then use.

export type Target = 'healthz' | 'signup' | 'login' | 'refresh' | 'me'

interface SessionBody {
  accessToken?: unknown
  refreshToken?: unknown
  user?: { email?: unknown }
}

const parse = (body: string): SessionBody => {
  try {
    return JSON.parse(body) as SessionBody
  } catch {
    return {}
  }
}

export class Traffic {
  private signups = 0
  private turn = 0
  readonly accounts: string[] = []
  /** One access token per session, for `GET /v1/users/me`. */
  private readonly accessTokens: string[] = []
  /** Live refresh tokens: each is spent once and replaced by the one its refresh returns. */
  readonly refreshTokens: string[] = []
  /** Sessions created (signups and logins): the documents in MongoDB's sessions. */
  sessionsCreated = 0

  constructor(
    private readonly runId: string,
    private readonly password: string,
  ) {}

  signupBody = (): string =>
    JSON.stringify({
      email: `u${++this.signups}.${this.runId}@bench.example.com`,
      password: this.password,
    })

  /** Round-robin over distinct accounts, so that lockout never applies. */
  loginBody = (): string =>
    JSON.stringify({
      email: this.accounts[this.turn++ % this.accounts.length],
      password: this.password,
    })

  /** Records the session a 2xx signup or login answered, and the account a signup created. */
  remember = (status: number, body: string): void => {
    this.sessionsCreated += 1
    const { user, accessToken, refreshToken } = parse(body)
    if (status === 201 && typeof user?.email === 'string') this.accounts.push(user.email)
    if (typeof accessToken === 'string') this.accessTokens.push(accessToken)
    if (typeof refreshToken === 'string') this.refreshTokens.push(refreshToken)
  }

  /** The request autocannon repeats for one target. */
  request(target: Target): autocannon.Request {
    const json = { 'content-type': 'application/json' }
    switch (target) {
      case 'healthz':
        return { method: 'GET', path: '/healthz' }
      case 'me':
        return {
          method: 'GET',
          path: '/v1/users/me',
          setupRequest: (request) => {
            const token = this.accessTokens[this.turn++ % this.accessTokens.length] ?? ''
            return { ...request, headers: { authorization: `Bearer ${token}` } }
          },
        }
      case 'signup':
      case 'login':
        return {
          method: 'POST',
          path: `/v1/auth/${target}`,
          headers: json,
          setupRequest: (request) => ({
            ...request,
            body: target === 'signup' ? this.signupBody() : this.loginBody(),
          }),
          onResponse: (status, body) => {
            if (status === 200 || status === 201) this.remember(status, body)
          },
        }
      case 'refresh':
        return {
          method: 'POST',
          path: '/v1/auth/refresh',
          headers: json,
          setupRequest: (request, context: { token?: string }) => {
            context.token = this.refreshTokens.shift()
            if (context.token === undefined) throw new Error('ran out of refresh tokens')
            return { ...request, body: JSON.stringify({ refreshToken: context.token }) }
          },
          onResponse: (status, body, context: { token?: string }) => {
            const next = status === 200 ? parse(body).refreshToken : undefined
            if (typeof next === 'string') this.refreshTokens.push(next)
            // Shed or failed before the swap: the token is still good.
            else if (status !== 401 && context.token) this.refreshTokens.push(context.token)
          },
        }
    }
  }
}
