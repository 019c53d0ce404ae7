import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, expect } from 'vitest'
import { CookieJar } from './cookie-jar.js'
import { startPair, type Pair, type PairOptions, type SessionBody } from './pair-harness.js'
import {
  startOidcProvider,
  type OidcFixture,
  type OidcFixtureOptions,
} from './oidc-provider-fixture.js'

/** Where the tests' front end would be: listed in OAUTH_REDIRECT_URLS. */
export const appCallback = 'http://localhost:5173/oauth/done'
export const clientId = 'users-api'
export const clientSecret = 'users-api-client-secret-for-tests-0123456789'

export interface SocialPair {
  pair: Pair
  /** users-api on a real socket: the redirect URIs registered at providers point here. */
  publicUrl: string
  /** The signing-in user's browser: the cookie that start sets goes back at the callback. */
  browser: CookieJar
}

const servers = new Set<Server>()
afterEach(async () => {
  const open = [...servers]
  servers.clear()
  for (const server of open) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})

/**
 * users-api (with auth-api and MongoDB, as `startPair`) listening on a port that is known before
 * it is configured, so that its PUBLIC_URL, and the redirect URIs made from it, are real:
 * `configure` gets the public URL and answers the environment (providers) to start with.
 */
export async function startSocialPair(
  configure: (publicUrl: string) => Promise<Record<string, string>> | Record<string, string>,
  pairOptions: Pick<PairOptions, 'now'> = {},
): Promise<SocialPair> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  servers.add(server)
  const publicUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const env = await configure(publicUrl)
  const pair = await startPair({
    ...pairOptions,
    usersEnv: { PUBLIC_URL: publicUrl, OAUTH_REDIRECT_URLS: appCallback, ...env },
  })
  server.on('request', (request, response) => {
    pair.users.routing(request, response)
  })
  return { pair, publicUrl, browser: new CookieJar() }
}

/** users-api with one OpenID Connect provider, id `test`, on a local oidc-provider. */
export async function startWithOidcProvider(
  options: Partial<OidcFixtureOptions> = {},
  usersEnv: Record<string, string> = {},
  pairOptions: Pick<PairOptions, 'now'> = {},
): Promise<SocialPair & { idp: OidcFixture }> {
  let idp: OidcFixture | undefined
  const social = await startSocialPair(async (publicUrl) => {
    idp = await startOidcProvider({
      clientId,
      clientSecret,
      redirectUris: [`${publicUrl}/v1/auth/oauth/test/callback`],
      ...options,
    })
    return {
      OAUTH_PROVIDERS: 'test',
      OIDC_TEST_ISSUER: idp.issuer,
      OIDC_TEST_CLIENT_ID: clientId,
      OIDC_TEST_CLIENT_SECRET: clientSecret,
      OIDC_TEST_NAME: 'Test Provider',
      ...usersEnv,
    }
  }, pairOptions)
  if (!idp) throw new Error('provider not started')
  return { ...social, idp }
}

/** Starts a sign-in at users-api in `browser` and returns the provider URL it redirects to. */
export async function startLogin(
  social: SocialPair,
  provider = 'test',
  redirectTo = appCallback,
  browser = social.browser,
): Promise<string> {
  const res = await browser.fetch(
    `${social.publicUrl}/v1/auth/oauth/${provider}/start?redirect_to=${encodeURIComponent(redirectTo)}`,
    { redirect: 'manual' },
  )
  if (res.status !== 302) throw new Error(`start answered ${res.status}: ${await res.text()}`)
  return res.headers.get('location') ?? ''
}

/**
 * Delivers the provider's redirect to users-api's callback in `browser` (the one that started
 * the sign-in); returns where users-api sends the browser.
 */
export async function deliverCallback(callback: URL, browser: CookieJar): Promise<URL> {
  const res = await browser.fetch(callback, { redirect: 'manual' })
  if (res.status !== 302) throw new Error(`callback answered ${res.status}: ${await res.text()}`)
  return new URL(res.headers.get('location') ?? '')
}

/** The `#key=value` of a redirect target. */
export function fragment(url: URL): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(url.hash.slice(1)))
}

export async function exchange(social: SocialPair, code: string): Promise<Response> {
  return fetch(`${social.publicUrl}/v1/auth/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code }),
  })
}

/** The whole round trip for `accountId`, ending in a session. */
export async function socialLogin(
  social: SocialPair & { idp: OidcFixture },
  accountId: string,
): Promise<SessionBody> {
  const back = await deliverCallback(
    await social.idp.authorize(await startLogin(social), accountId),
    social.browser,
  )
  const { code } = fragment(back)
  expect(code, `redirected to ${back.href}`).toBeDefined()
  const res = await exchange(social, code ?? '')
  expect(res.status).toBe(200)
  return (await res.json()) as SessionBody
}
