import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { createHash } from 'node:crypto'
import { decodeJwt } from 'jose'
import { describe, expect, it } from 'vitest'
import {
  appCallback,
  deliverCallback,
  exchange,
  fragment,
  socialLogin,
  startLogin,
  startSocialPair,
  startWithOidcProvider,
  clientId,
  clientSecret,
} from './oauth-harness.js'
import { CookieJar } from './cookie-jar.js'
import { get, goodPassword, post, problem, send, signup } from './pair-harness.js'

const alice = { email: 'Alice@Example.com', email_verified: true, name: 'Alice' }

describe('social login with an OpenID Connect provider', () => {
  it('makes a new account without a password for an unknown identity', async () => {
    const social = await startWithOidcProvider()
    social.idp.accounts.set('alice-sub', alice)
    const session = await socialLogin(social, 'alice-sub')
    expect(session.user).toMatchObject({
      email: 'alice@example.com',
      name: 'Alice',
      emailVerified: true,
      hasPassword: false,
    })
    const claims = decodeJwt(session.accessToken)
    expect(claims.amr).toEqual(['fed'])
    expect(typeof claims.auth_time).toBe('number')
    const stored = await social.pair.db.collection('users').findOne({ email: 'alice@example.com' })
    expect(stored).not.toHaveProperty('passwordHash')
    const me = await get(social.pair.users, '/v1/users/me/identities', session.accessToken)
    expect(me.json()).toEqual({
      items: [
        {
          provider: 'test',
          subject: 'alice-sub',
          email: 'Alice@Example.com',
          linkedAt: expect.any(String) as string,
        },
      ],
    })
    // No password at all: a password login is the ordinary 401.
    problem(
      await post(social.pair.users, '/v1/auth/login', {
        email: 'alice@example.com',
        password: 'any password at all here',
      }),
      401,
      'INVALID_CREDENTIALS',
    )
    const events = await social.pair.db.collection('audit_events').find().toArray()
    expect(events.map((e) => `${String(e.event)}:${String(e.outcome)}`)).toEqual(
      expect.arrayContaining(['signup:success', 'identity.link:success']),
    )
  })

  it('signs a known identity in to the same account', async () => {
    const social = await startWithOidcProvider()
    social.idp.accounts.set('alice-sub', alice)
    const first = await socialLogin(social, 'alice-sub')
    const second = await socialLogin(social, 'alice-sub')
    expect(second.user.id).toBe(first.user.id)
    expect(await social.pair.db.collection('users').countDocuments()).toBe(1)
    expect(await social.pair.db.collection('sessions').countDocuments()).toBe(2)
  })

  it('reads the address and its verification from UserInfo when the ID token lacks them', async () => {
    const social = await startWithOidcProvider({ claimsOnlyAtUserInfo: true })
    social.idp.accounts.set('kim-sub', { email: 'kim@example.com', email_verified: true })
    const session = await socialLogin(social, 'kim-sub')
    expect(session.user).toMatchObject({ email: 'kim@example.com', emailVerified: true })
  })

  it('links a verified provider address to the local account whose address is verified', async () => {
    const social = await startWithOidcProvider()
    const local = await signup(social.pair.users, 'alice@example.com')
    await social.pair.db
      .collection('users')
      .updateOne({ email: 'alice@example.com' }, { $set: { emailVerified: true } })
    social.idp.accounts.set('alice-sub', alice)
    const session = await socialLogin(social, 'alice-sub')
    expect(session.user.id).toBe(local.user.id)
    expect(session.user).toMatchObject({ hasPassword: true, emailVerified: true })
    expect(await social.pair.db.collection('identities').countDocuments()).toBe(1)
  })

  it('refuses to link to a local account whose address is unverified (pre-registration)', async () => {
    const social = await startWithOidcProvider()
    await signup(social.pair.users, 'alice@example.com')
    social.idp.accounts.set('alice-sub', alice)
    const back = await deliverCallback(
      await social.idp.authorize(await startLogin(social), 'alice-sub'),
      social.browser,
    )
    expect(back.href).toBe(`${appCallback}#error=account_exists`)
    expect(await social.pair.db.collection('identities').countDocuments()).toBe(0)
    const failure = await social.pair.db
      .collection('audit_events')
      .findOne({ event: 'login', outcome: 'failure' })
    expect(failure?.userId).toBeDefined()
  })

  it('never links an address the provider did not verify', async () => {
    const social = await startWithOidcProvider()
    await signup(social.pair.users, 'alice@example.com')
    await social.pair.db
      .collection('users')
      .updateOne({ email: 'alice@example.com' }, { $set: { emailVerified: true } })
    social.idp.accounts.set('mallory-sub', { email: 'alice@example.com', email_verified: false })
    const back = await deliverCallback(
      await social.idp.authorize(await startLogin(social), 'mallory-sub'),
      social.browser,
    )
    expect(fragment(back)).toEqual({ error: 'account_exists' })
    expect(await social.pair.db.collection('identities').countDocuments()).toBe(0)

    // An unverified address nobody has: no account either. It would be a pre-registration of
    // someone else's address, which its owner's later reset would verify for the intruder.
    social.idp.accounts.set('new-sub', { email: 'new@example.com', email_verified: false })
    const unverified = await deliverCallback(
      await social.idp.authorize(await startLogin(social), 'new-sub'),
      social.browser,
    )
    expect(fragment(unverified)).toEqual({ error: 'email_not_verified' })
    expect(await social.pair.db.collection('users').countDocuments()).toBe(1)
  })

  it('takes only plain addresses: case folding must not map a provider address onto a local one', async () => {
    const social = await startWithOidcProvider()
    await signup(social.pair.users, 'kim@example.com')
    await social.pair.db
      .collection('users')
      .updateOne({ email: 'kim@example.com' }, { $set: { emailVerified: true } })
    // U+212A KELVIN SIGN lower-cases to an ASCII k.
    social.idp.accounts.set('kelvin-sub', { email: '\u212Aim@example.com', email_verified: true })
    const back = await deliverCallback(
      await social.idp.authorize(await startLogin(social), 'kelvin-sub'),
      social.browser,
    )
    expect(fragment(back)).toEqual({ error: 'email_required' })
    expect(await social.pair.db.collection('identities').countDocuments()).toBe(0)
  })

  it('ends at #error=email_required when the provider gives no address', async () => {
    const social = await startWithOidcProvider()
    social.idp.accounts.set('anon-sub', {})
    const back = await deliverCallback(
      await social.idp.authorize(await startLogin(social), 'anon-sub'),
      social.browser,
    )
    expect(fragment(back)).toEqual({ error: 'email_required' })
  })

  it('ends at #error=access_denied when the user cancels at the provider', async () => {
    const social = await startWithOidcProvider()
    social.idp.accounts.set('alice-sub', alice)
    const back = await deliverCallback(
      await social.idp.authorize(await startLogin(social), 'alice-sub', { deny: true }),
      social.browser,
    )
    expect(fragment(back)).toEqual({ error: 'access_denied' })
  })

  it('keeps state, nonce and the PKCE verifier server-side, and sends S256 challenges', async () => {
    const social = await startWithOidcProvider()
    const url = new URL(await startLogin(social))
    expect(url.origin).toBe(social.idp.issuer)
    expect(url.searchParams.get('code_challenge_method')).toBe('S256')
    expect(url.searchParams.get('redirect_uri')).toBe(
      `${social.publicUrl}/v1/auth/oauth/test/callback`,
    )
    const state = url.searchParams.get('state') ?? ''
    expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const stored = await social.pair.db.collection('oauth_states').find().toArray()
    expect(stored).toHaveLength(1)
    // Only the state's hash is stored.
    expect(JSON.stringify(stored)).not.toContain(state)
    expect(stored[0]?.nonce).toBe(url.searchParams.get('nonce'))
    expect(stored[0]?.expiresAt).toBeInstanceOf(Date)
  })
})

describe('secrets in logs', () => {
  it('writes no state, provider code, exchange code or token to the logs', async () => {
    const social = await startWithOidcProvider()
    social.idp.accounts.set('alice-sub', alice)
    const authorizationUrl = new URL(await startLogin(social))
    const callback = await social.idp.authorize(authorizationUrl.href, 'alice-sub')
    const { code = '' } = fragment(await deliverCallback(callback, social.browser))
    const res = await exchange(social, code)
    const session = (await res.json()) as { accessToken: string; refreshToken: string }
    const logs = social.pair.logs()
    for (const secret of [
      authorizationUrl.searchParams.get('state'),
      authorizationUrl.searchParams.get('nonce'),
      callback.searchParams.get('code'),
      code,
      session.accessToken,
      session.refreshToken,
    ]) {
      expect(secret).toBeTruthy()
      expect(logs).not.toContain(secret)
    }
  })
})

describe('replays and tampering', () => {
  it('answers a replayed or unknown state with 400 and no redirect', async () => {
    const social = await startWithOidcProvider()
    social.idp.accounts.set('alice-sub', alice)
    const callback = await social.idp.authorize(await startLogin(social), 'alice-sub')
    await deliverCallback(callback, social.browser)
    const replay = await social.browser.fetch(callback, { redirect: 'manual' })
    expect(replay.status).toBe(400)
    expect(replay.headers.get('location')).toBeNull()
    expect(((await replay.json()) as { code: string }).code).toBe('VALIDATION_FAILED')

    const forged = new URL(callback)
    forged.searchParams.set('state', 'A'.repeat(43))
    const unknown = await social.browser.fetch(forged, { redirect: 'manual' })
    expect(unknown.status).toBe(400)
    expect(unknown.headers.get('location')).toBeNull()
  })

  it('takes each state once under concurrency', async () => {
    const social = await startWithOidcProvider()
    social.idp.accounts.set('alice-sub', alice)
    const callback = await social.idp.authorize(await startLogin(social), 'alice-sub')
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => social.browser.fetch(callback, { redirect: 'manual' })),
    )
    expect(answers.map((a) => a.status).sort()).toEqual([302, 400, 400, 400, 400])
  })

  it('exchanges a code once; a second use, a guess or an old code is 400 INVALID_TOKEN', async () => {
    let offsetMs = 0
    const social = await startWithOidcProvider(
      {},
      {},
      { now: () => new Date(Date.now() + offsetMs) },
    )
    social.idp.accounts.set('alice-sub', alice)
    const back = await deliverCallback(
      await social.idp.authorize(await startLogin(social), 'alice-sub'),
      social.browser,
    )
    const { code = '' } = fragment(back)
    const [a, b] = await Promise.all([exchange(social, code), exchange(social, code)])
    expect([a.status, b.status].sort()).toEqual([200, 400])
    const again = await exchange(social, code)
    expect(again.status).toBe(400)
    expect(((await again.json()) as { code: string }).code).toBe('INVALID_TOKEN')
    expect((await exchange(social, 'B'.repeat(43))).status).toBe(400)

    const late = fragment(
      await deliverCallback(
        await social.idp.authorize(await startLogin(social), 'alice-sub'),
        social.browser,
      ),
    )
    offsetMs = 61_000
    expect((await exchange(social, late.code ?? '')).status).toBe(400)
  })

  it.each(['wrong-audience', 'unknown-key', 'altered-claims'] as const)(
    'refuses an ID token with %s and makes no account',
    async (tamper) => {
      const social = await startWithOidcProvider()
      social.idp.accounts.set('alice-sub', alice)
      social.idp.tamper = tamper
      const authorizationUrl = await startLogin(social)
      const back = await deliverCallback(
        await social.idp.authorize(authorizationUrl, 'alice-sub'),
        social.browser,
      )
      expect(fragment(back)).toEqual({ error: 'invalid_response' })
      // The refusal is logged without the token, its claims or the nonce.
      const logs = social.pair.logs()
      expect(logs).toContain('social login refused')
      expect(logs).not.toMatch(/eyJ[\w-]+\.eyJ/)
      expect(logs).not.toContain(new URL(authorizationUrl).searchParams.get('nonce'))
      expect(logs).not.toContain('alice-sub')
      expect(await social.pair.db.collection('users').countDocuments()).toBe(0)
      expect(await social.pair.db.collection('oauth_codes').countDocuments()).toBe(0)
    },
  )

  it('refuses a redirect_to that is not listed, without a redirect', async () => {
    const social = await startWithOidcProvider()
    const attempts = [
      'https://evil.example.com/oauth/done',
      'http://localhost:5173/oauth/done.evil',
      'http://localhost:5173/oauth/done/../../evil',
      'http://localhost:5173/oauth/done?next=https://evil.example.com',
      'http://localhost:5173/oauth/done#x',
      'http://evil@localhost:5173/oauth/done',
      'http://localhost:51730/oauth/done',
      'javascript:alert(1)',
      '//localhost:5173/oauth/done',
    ]
    for (const target of attempts) {
      const res = await fetch(
        `${social.publicUrl}/v1/auth/oauth/test/start?redirect_to=${encodeURIComponent(target)}`,
        { redirect: 'manual' },
      )
      expect(res.status, target).toBe(400)
      expect(res.headers.get('location')).toBeNull()
    }
    expect(await social.pair.db.collection('oauth_states').countDocuments()).toBe(0)
    // The parser's normal form of a listed URL is the same URL.
    expect(await startLogin(social, 'test', 'HTTP://LOCALHOST:5173/oauth/done')).toContain(
      social.idp.issuer,
    )
  })

  it('answers 404 for a provider that is not configured', async () => {
    const social = await startWithOidcProvider()
    const res = await fetch(
      `${social.publicUrl}/v1/auth/oauth/nope/start?redirect_to=${encodeURIComponent(appCallback)}`,
      { redirect: 'manual' },
    )
    expect(res.status).toBe(404)
  })
})

describe('providers that are down', () => {
  it('starts while the provider is down, answers 503 with Retry-After, and recovers', async () => {
    const social = await startWithOidcProvider()
    await social.idp.stop()
    const providers = await get(social.pair.users, '/v1/auth/oauth/providers')
    expect(providers.json()).toEqual({ items: [{ id: 'test', name: 'Test Provider' }] })
    const down = await fetch(
      `${social.publicUrl}/v1/auth/oauth/test/start?redirect_to=${encodeURIComponent(appCallback)}`,
      { redirect: 'manual' },
    )
    expect(down.status).toBe(503)
    expect(Number(down.headers.get('retry-after'))).toBeGreaterThan(0)
    await social.idp.start()
    expect(await startLogin(social)).toContain(social.idp.issuer)
  })

  it('gives up on a provider that accepts connections but never answers, within the timeout', async () => {
    const silent = createServer(() => undefined)
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const port = (silent.address() as AddressInfo).port
    try {
      const social = await startSocialPair(() => ({
        OAUTH_PROVIDERS: 'test',
        OIDC_TEST_ISSUER: `http://127.0.0.1:${port}`,
        OIDC_TEST_CLIENT_ID: clientId,
        OIDC_TEST_CLIENT_SECRET: clientSecret,
        OAUTH_HTTP_TIMEOUT_MS: '500',
      }))
      const started = performance.now()
      const answer = await social.pair.users.inject({
        method: 'GET',
        url: `/v1/auth/oauth/test/start?redirect_to=${encodeURIComponent(appCallback)}`,
      })
      problem(answer, 503, 'SERVICE_UNAVAILABLE')
      expect(answer.headers['retry-after']).toBeDefined()
      expect(performance.now() - started).toBeLessThan(3000)
    } finally {
      silent.close()
    }
  })
})

describe('the browser that started the sign-in (login CSRF)', () => {
  const cookieName = 'oauth_browser'

  it('refuses an attacker’s callback URL opened in the victim’s browser: 400, no redirect, no code', async () => {
    const social = await startWithOidcProvider()
    social.idp.accounts.set('mallory-sub', {
      email: 'mallory@example.com',
      email_verified: true,
    })
    // The attacker signs in up to the provider's redirect, then stops.
    const attacker = new CookieJar()
    const callback = await social.idp.authorize(
      await startLogin(social, 'test', appCallback, attacker),
      'mallory-sub',
    )
    // The victim's browser: once with no binding cookie, once with one of its own sign-in.
    const victim = new CookieJar()
    for (const attempt of ['no cookie', 'own cookie']) {
      if (attempt === 'own cookie') await startLogin(social, 'test', appCallback, victim)
      const res = await victim.fetch(callback, { redirect: 'manual' })
      expect(res.status, attempt).toBe(400)
      expect(res.headers.get('location'), attempt).toBeNull()
      const body = (await res.json()) as { code: string; errors?: { path: string }[] }
      expect(body.code).toBe('VALIDATION_FAILED')
      expect(body.errors).toEqual([expect.objectContaining({ path: '/state' })])
    }
    expect(await social.pair.db.collection('oauth_codes').countDocuments()).toBe(0)
    expect(await social.pair.db.collection('users').countDocuments()).toBe(0)
    // The refused attempt spent the attacker's state: it cannot be retried anywhere.
    const retry = await attacker.fetch(callback, { redirect: 'manual' })
    expect(retry.status).toBe(400)
  })

  it('answers a forged binding cookie like an unknown state', async () => {
    const social = await startWithOidcProvider()
    social.idp.accounts.set('alice-sub', alice)
    const callback = await social.idp.authorize(await startLogin(social), 'alice-sub')
    for (const value of ['A'.repeat(43), 'x', '']) {
      const res = await fetch(callback, {
        redirect: 'manual',
        headers: { cookie: `${cookieName}=${value}` },
      })
      expect(res.status, value).toBe(400)
      expect(res.headers.get('location')).toBeNull()
    }
  })

  it('sets a short-lived HttpOnly, SameSite=Lax cookie on start, stores only its hash, and clears it at the callback', async () => {
    const social = await startWithOidcProvider()
    social.idp.accounts.set('alice-sub', alice)
    const res = await fetch(
      `${social.publicUrl}/v1/auth/oauth/test/start?redirect_to=${encodeURIComponent(appCallback)}`,
      { redirect: 'manual' },
    )
    expect(res.status).toBe(302)
    const [setCookie = '', ...others] = res.headers.getSetCookie()
    expect(others).toEqual([])
    const attributes = setCookie.split(';').map((part) => part.trim().toLowerCase())
    expect(attributes).toEqual(
      expect.arrayContaining(['httponly', 'samesite=lax', 'path=/v1/auth/oauth', 'max-age=600']),
    )
    // PUBLIC_URL is http here: a Secure cookie would never come back.
    expect(attributes).not.toContain('secure')
    const value = /^oauth_browser=([A-Za-z0-9_-]{43})$/.exec(setCookie.split(';')[0] ?? '')?.[1]
    expect(value).toBeDefined()
    const stored = JSON.stringify(await social.pair.db.collection('oauth_states').find().toArray())
    expect(stored).not.toContain(value)
    expect(stored).toContain(
      createHash('sha256')
        .update(value ?? '')
        .digest('base64url'),
    )

    const browser = new CookieJar()
    browser.keep(res)
    const callback = await social.idp.authorize(res.headers.get('location') ?? '', 'alice-sub')
    const back = await browser.fetch(callback, { redirect: 'manual' })
    expect(back.status).toBe(302)
    expect(fragment(new URL(back.headers.get('location') ?? '')).code).toBeDefined()
    expect(back.headers.getSetCookie().join()).toMatch(/^oauth_browser=;.*Path=\/v1\/auth\/oauth/i)
    expect(browser.size).toBe(0)
    expect(social.pair.logs()).not.toContain(value)
  })

  it('marks the cookie Secure when PUBLIC_URL is https', async () => {
    const social = await startWithOidcProvider({}, { PUBLIC_URL: 'https://id.example.com' })
    const res = await social.pair.users.inject({
      method: 'GET',
      url: `/v1/auth/oauth/test/start?redirect_to=${encodeURIComponent(appCallback)}`,
    })
    expect(res.statusCode).toBe(302)
    expect(String(res.headers['set-cookie'])).toMatch(/;\s*Secure/i)
  })
})

describe('linking and unlinking', () => {
  it('links a provider identity to the signed-in account and ends at redirect_to without a code', async () => {
    const social = await startWithOidcProvider()
    const bob = await signup(social.pair.users, 'bob@example.com')
    social.idp.accounts.set('bob-sub', { email: 'bob@provider.example', email_verified: false })
    const started = await post(
      social.pair.users,
      `/v1/users/me/identities/test?redirect_to=${encodeURIComponent(appCallback)}`,
      undefined,
      bob.accessToken,
    )
    expect(started.statusCode).toBe(200)
    // A Bearer call, not a browser redirect: no binding cookie (the link goes to Bob alone).
    expect(started.headers['set-cookie']).toBeUndefined()
    const { authorizationUrl } = started.json<{ authorizationUrl: string }>()
    const back = await deliverCallback(
      await social.idp.authorize(authorizationUrl, 'bob-sub'),
      social.browser,
    )
    expect(back.href).toBe(appCallback)
    const identities = await get(social.pair.users, '/v1/users/me/identities', bob.accessToken)
    expect(identities.json<{ items: { subject: string }[] }>().items).toEqual([
      expect.objectContaining({ provider: 'test', subject: 'bob-sub' }),
    ])
    // The identity now signs Bob in.
    const session = await socialLogin(social, 'bob-sub')
    expect(session.user.id).toBe(bob.user.id)
    const linkEvent = await social.pair.db
      .collection('audit_events')
      .findOne({ event: 'identity.link', outcome: 'success' })
    expect(String(linkEvent?.userId)).toBe(bob.user.id)
  })

  it('refuses to link an identity that belongs to another account (#error=identity_linked)', async () => {
    const social = await startWithOidcProvider()
    social.idp.accounts.set('alice-sub', alice)
    const owner = await socialLogin(social, 'alice-sub')
    const bob = await signup(social.pair.users, 'bob@example.com')
    const started = await post(
      social.pair.users,
      `/v1/users/me/identities/test?redirect_to=${encodeURIComponent(appCallback)}`,
      undefined,
      bob.accessToken,
    )
    const { authorizationUrl } = started.json<{ authorizationUrl: string }>()
    const back = await deliverCallback(
      await social.idp.authorize(authorizationUrl, 'alice-sub'),
      social.browser,
    )
    expect(fragment(back)).toEqual({ error: 'identity_linked' })
    const identity = await social.pair.db.collection('identities').findOne({ subject: 'alice-sub' })
    expect(String(identity?.userId)).toBe(owner.user.id)
    const bobs = await get(social.pair.users, '/v1/users/me/identities', bob.accessToken)
    expect(bobs.json()).toEqual({ items: [] })
  })

  it('requires a signed-in user to start linking', async () => {
    const social = await startWithOidcProvider()
    const res = await post(
      social.pair.users,
      `/v1/users/me/identities/test?redirect_to=${encodeURIComponent(appCallback)}`,
      undefined,
    )
    problem(res, 401, 'UNAUTHORIZED')
  })

  it('refuses to unlink the last way to sign in (409 LAST_LOGIN_METHOD)', async () => {
    const social = await startWithOidcProvider()
    social.idp.accounts.set('alice-sub', alice)
    const session = await socialLogin(social, 'alice-sub')
    problem(
      await send(
        social.pair.users,
        'DELETE',
        '/v1/users/me/identities/test',
        undefined,
        session.accessToken,
      ),
      409,
      'LAST_LOGIN_METHOD',
    )
    problem(
      await send(
        social.pair.users,
        'DELETE',
        '/v1/users/me/identities/other',
        undefined,
        session.accessToken,
      ),
      404,
      'NOT_FOUND',
    )
    expect(await social.pair.db.collection('identities').countDocuments()).toBe(1)
  })

  it('unlinks when a password remains, and the identity no longer signs in to that account', async () => {
    const social = await startWithOidcProvider()
    const local = await signup(social.pair.users, 'alice@example.com')
    await social.pair.db
      .collection('users')
      .updateOne({ email: 'alice@example.com' }, { $set: { emailVerified: true } })
    social.idp.accounts.set('alice-sub', alice)
    const viaProvider = await socialLogin(social, 'alice-sub')
    const res = await send(
      social.pair.users,
      'DELETE',
      '/v1/users/me/identities/test',
      undefined,
      local.accessToken,
    )
    expect(res.statusCode).toBe(204)
    expect(await social.pair.db.collection('identities').countDocuments()).toBe(0)
    // Whoever signed in through that identity is out at once; the caller stays signed in.
    problem(
      await get(social.pair.users, '/v1/users/me', viaProvider.accessToken),
      401,
      'UNAUTHORIZED',
    )
    expect((await get(social.pair.users, '/v1/users/me', local.accessToken)).statusCode).toBe(200)
    const unlinkEvent = await social.pair.db
      .collection('audit_events')
      .findOne({ event: 'identity.unlink', outcome: 'success' })
    expect(String(unlinkEvent?.userId)).toBe(local.user.id)
  })

  it('never unlinks both of a passwordless account’s last two identities, however the requests race', async () => {
    const social = await startWithOidcProvider()
    social.idp.accounts.set('alice-sub', alice)
    const session = await socialLogin(social, 'alice-sub')
    const userId: unknown = (await social.pair.db.collection('identities').findOne())?.userId
    for (let round = 0; round < 5; round++) {
      await social.pair.db.collection('identities').deleteMany({})
      await social.pair.db.collection('identities').insertMany([
        { provider: 'test', subject: 'alice-sub', userId, email: '', linkedAt: new Date() },
        { provider: 'other', subject: 'alice-2', userId, email: '', linkedAt: new Date() },
      ])
      const answers = await Promise.all(
        ['test', 'other'].map((provider) =>
          send(
            social.pair.users,
            'DELETE',
            `/v1/users/me/identities/${provider}`,
            undefined,
            session.accessToken,
          ),
        ),
      )
      const codes = answers.map((a) => a.statusCode)
      expect(codes.filter((c) => c === 204).length).toBeLessThanOrEqual(1)
      expect(codes.every((c) => c === 204 || c === 409)).toBe(true)
      expect(await social.pair.db.collection('identities').countDocuments()).toBeGreaterThanOrEqual(
        1,
      )
    }
  })

  it('deletes a user’s identities with the user', async () => {
    const social = await startWithOidcProvider()
    const bob = await signup(social.pair.users, 'bob@example.com')
    await social.pair.db
      .collection('users')
      .updateOne({ email: 'bob@example.com' }, { $set: { emailVerified: true } })
    social.idp.accounts.set('bob-sub', { email: 'bob@example.com', email_verified: true })
    await socialLogin(social, 'bob-sub')
    const res = await send(
      social.pair.users,
      'DELETE',
      '/v1/users/me',
      { password: goodPassword },
      bob.accessToken,
    )
    expect(res.statusCode).toBe(204)
    expect(await social.pair.db.collection('identities').countDocuments()).toBe(0)
  })

  it('voids a pending exchange code when its identity is unlinked', async () => {
    const social = await startWithOidcProvider()
    const local = await signup(social.pair.users, 'alice@example.com')
    await social.pair.db
      .collection('users')
      .updateOne({ email: 'alice@example.com' }, { $set: { emailVerified: true } })
    social.idp.accounts.set('alice-sub', alice)
    const { code = '' } = fragment(
      await deliverCallback(
        await social.idp.authorize(await startLogin(social), 'alice-sub'),
        social.browser,
      ),
    )
    await send(
      social.pair.users,
      'DELETE',
      '/v1/users/me/identities/test',
      undefined,
      local.accessToken,
    )
    expect((await exchange(social, code)).status).toBe(400)
  })
})
