import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  SignJWT,
  type JWK,
} from 'jose'
import Provider from 'oidc-provider'
import { afterEach } from 'vitest'

/** What the provider says about one of its users. */
export interface ProviderAccount {
  email?: string
  email_verified?: boolean
  name?: string
}

/**
 * How the provider's token endpoint alters the ID tokens it hands out, to show that users-api
 * refuses them: a token issued for another client (`aud`, signed with the provider's own key),
 * one signed with a key the provider never published, one whose claims were changed after
 * signing.
 */
export type IdTokenTamper = 'none' | 'wrong-audience' | 'unknown-key' | 'altered-claims'

export interface OidcFixtureOptions {
  clientId: string
  clientSecret: string
  redirectUris: string[]
  /**
   * true: the ID token carries only `sub` and the rest is at the UserInfo endpoint (as Kakao
   * does with the address's verification); false (default): the claims are in the ID token.
   */
  claimsOnlyAtUserInfo?: boolean
}

export interface OidcFixture {
  issuer: string
  accounts: Map<string, ProviderAccount>
  tamper: IdTokenTamper
  /**
   * Plays the browser at the provider: opens `authorizationUrl`, signs in as `accountId` on the
   * development login page, consents, and returns the redirect back to the relying party (its
   * callback URL with `code`, `state` and `iss`). With `deny`, cancels at the login page.
   */
  authorize(authorizationUrl: string, accountId: string, options?: { deny?: boolean }): Promise<URL>
  /** Stops answering (connections refused) until `start` again, on the same port. */
  stop(): Promise<void>
  start(): Promise<void>
}

const running = new Set<() => Promise<void>>()
afterEach(async () => {
  const closers = [...running]
  running.clear()
  for (const close of closers) await close()
})

function listen(server: Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => {
      resolve((server.address() as AddressInfo).port)
    })
  })
}

function close(server: Server): Promise<void> {
  server.closeAllConnections()
  return new Promise((resolve) => {
    server.close(() => {
      resolve()
    })
  })
}

/**
 * panva's oidc-provider (OpenID Certified) on a local port, with one client registered for
 * users-api and development login and consent pages. Closed after the test that started it.
 */
export async function startOidcProvider(options: OidcFixtureOptions): Promise<OidcFixture> {
  let server = createServer()
  const port = await listen(server)
  const issuer = `http://127.0.0.1:${port}`
  const accounts = new Map<string, ProviderAccount>()

  const { privateKey } = await generateKeyPair('RS256', { extractable: true })
  const signingKey: JWK = {
    ...(await exportJWK(privateKey)),
    kid: 'fixture-1',
    alg: 'RS256',
    use: 'sig',
  }
  const stranger = await generateKeyPair('RS256')

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: options.clientId,
        client_secret: options.clientSecret,
        redirect_uris: options.redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    jwks: { keys: [signingKey] },
    cookies: { keys: ['oidc-fixture-cookie-key-0123456789'] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    conformIdTokenClaims: options.claimsOnlyAtUserInfo ?? false,
    features: { devInteractions: { enabled: true } },
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      IdToken: 600,
      Grant: 600,
      Interaction: 600,
      Session: 600,
    },
    findAccount: (_ctx, sub) => {
      const account = accounts.get(sub)
      if (!account) return undefined
      return { accountId: sub, claims: () => ({ sub, ...account }) }
    },
  })
  // oidc-provider warns about its development interactions on stdout; the tests know.
  provider.on('server_error', (_ctx, error) => {
    console.error('oidc-provider server error', error)
  })

  const fixture: OidcFixture = {
    issuer,
    accounts,
    tamper: 'none',
    authorize: (url, accountId, authorizeOptions) =>
      playBrowser(url, accountId, options.redirectUris, authorizeOptions?.deny ?? false),
    async stop() {
      await close(server)
    },
    async start() {
      server = createServer(serve)
      await listen(server, port)
    },
  }

  async function tampered(idToken: string): Promise<string> {
    const header = decodeProtectedHeader(idToken)
    const claims = decodeJwt(idToken)
    switch (fixture.tamper) {
      case 'wrong-audience':
        return new SignJWT({ ...claims, aud: 'another-client' })
          .setProtectedHeader(header as { alg: string })
          .sign(privateKey)
      case 'unknown-key':
        return new SignJWT(claims)
          .setProtectedHeader(header as { alg: string })
          .sign(stranger.privateKey)
      case 'altered-claims': {
        const [head, , signature] = idToken.split('.')
        const body = Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString(
          'base64url',
        )
        return `${head ?? ''}.${body}.${signature ?? ''}`
      }
      case 'none':
        return idToken
    }
  }
  const handler = provider.callback()
  const serve = (req: IncomingMessage, res: ServerResponse) => {
    void handler(req, res)
  }
  provider.use(async (ctx, next) => {
    await next()
    const body = ctx.body as { id_token?: unknown } | undefined
    if (ctx.path === '/token' && fixture.tamper !== 'none' && typeof body?.id_token === 'string') {
      ctx.body = { ...body, id_token: await tampered(body.id_token) }
    }
  })

  server.on('request', serve)
  running.add(() => close(server))
  return fixture
}

/**
 * A minimal browser over fetch: follows redirects with a cookie jar and submits the provider's
 * login and consent forms, until the provider redirects to one of `redirectUris`.
 */
async function playBrowser(
  authorizationUrl: string,
  accountId: string,
  redirectUris: string[],
  deny: boolean,
): Promise<URL> {
  const jar = new Map<string, string>()
  const cookieHeader = () => [...jar].map(([name, value]) => `${name}=${value}`).join('; ')
  let url = new URL(authorizationUrl)
  let method = 'GET'
  let body: URLSearchParams | undefined
  for (let step = 0; step < 20; step++) {
    const response = await fetch(url, {
      method,
      redirect: 'manual',
      headers: { cookie: cookieHeader() },
      ...(body ? { body } : {}),
    })
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';')
      const at = pair.indexOf('=')
      jar.set(pair.slice(0, at), pair.slice(at + 1))
    }
    method = 'GET'
    body = undefined
    const location = response.headers.get('location')
    if (location) {
      const next = new URL(location, url)
      if (redirectUris.some((uri) => next.href.startsWith(`${uri}?`))) return next
      url = next
      continue
    }
    const html = await response.text()
    if (response.status !== 200) throw new Error(`provider answered ${response.status}: ${html}`)
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1]
    const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1]
    if (!action || !prompt) throw new Error(`unexpected provider page: ${html.slice(0, 500)}`)
    if (deny) {
      const abort = /href="([^"]*\/abort)"/.exec(html)?.[1]
      if (!abort) throw new Error('no cancel link on the provider page')
      url = new URL(abort, url)
      continue
    }
    url = new URL(action, url)
    method = 'POST'
    body =
      prompt === 'login'
        ? new URLSearchParams({ prompt, login: accountId, password: 'any' })
        : new URLSearchParams({ prompt })
  }
  throw new Error('the provider did not redirect back within 20 steps')
}
