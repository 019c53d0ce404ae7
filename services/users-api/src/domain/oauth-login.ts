import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { withRetryAfter } from '@users-auth/service-kit'
import type { FastifyBaseLogger } from 'fastify'
import type { Types } from 'mongoose'
import * as oidc from 'openid-client'
import { isDuplicateKey } from '../db/database.js'
import type { OAuthStateRecord } from '../db/oauth-state-model.js'
import { oauthQueries } from '../db/oauth-queries.js'
import { userQueries, type SessionUser } from '../db/user-queries.js'
import { InvalidToken, NotFound, ServiceUnavailable, ValidationFailed } from '../errors.js'
import type { IdentityProvider, ProviderProfile } from '../identity-providers/identity-provider.js'
import {
  describeProviderError,
  ProviderDeniedError,
  ProviderUnavailableError,
} from '../identity-providers/provider-errors.js'
import { normalizeRedirectUrl, type SocialConfig } from '../social-config.js'
import { normalizeEmail } from './accounts.js'
import type { DomainDeps, RequestContext } from './deps.js'
import type { Identities } from './identities.js'
import type { SignIn } from './sign-in.js'
import type { SessionView } from './views.js'
import { versionOf } from './sessions.js'

const stateLifetimeMs = 10 * 60_000
/** How long the browser keeps the value that binds a sign-in to it: as long as the state. */
export const browserBindingLifetimeSeconds = stateLifetimeMs / 1000
const codeLifetimeMs = 60_000
/** What a client is told to wait when a provider cannot be reached. */
const providerRetryAfterSeconds = 5
/** A state or exchange code as users-api makes them: 256 random bits, base64url. */
const tokenShape = /^[A-Za-z0-9_-]{43}$/

// Addresses as the provider gives them are matched after lower-casing, which maps some
// non-ASCII letters onto ASCII ones (the Kelvin sign onto `k`): only plain addresses are taken.
const plainAddress = /^[\x21-\x7e]{1,64}@[A-Za-z0-9.-]{1,253}$/

/** The `#error=` values a callback may end with. */
export const callbackErrors = [
  'access_denied',
  'account_exists',
  'identity_linked',
  'already_linked',
  'email_required',
  'email_not_verified',
  'invalid_response',
  'temporarily_unavailable',
] as const
type CallbackError = (typeof callbackErrors)[number]

export interface OAuthLoginDeps extends DomainDeps {
  social: SocialConfig
  providers: Map<string, IdentityProvider>
  identities: Identities
  signIn: SignIn
  logger: FastifyBaseLogger
}

/** Accounts stored before credential versions existed are at version 0. */

function newSecret(): string {
  return randomBytes(32).toString('base64url')
}

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url')
}

function invalid(path: string, message: string): Error {
  return Object.assign(new ValidationFailed(), { errors: [{ path, message }] })
}

/** Whether the browser's value hashes to the one stored at the start. */
function sameBrowser(presented: string | undefined, storedHash: string | undefined): boolean {
  if (!presented || !storedHash || !tokenShape.test(presented)) return false
  const hash = Buffer.from(hashSecret(presented))
  const stored = Buffer.from(storedHash)
  return hash.length === stored.length && timingSafeEqual(hash, stored)
}

const unknownState = () => invalid('/state', 'is unknown, already used or expired')

/**
 * Social login as one story: start (remember state, nonce and PKCE verifier server-side, send
 * the browser to the provider with a value that binds the sign-in to it), callback (take the
 * state once, check the browser is the one that started, let openid-client check the
 * provider's answer, resolve the account, hand the client a one-time code in the redirect's
 * fragment), exchange (take the code once, sign in through the one sign-in step).
 */
export function createOAuthLogin(deps: OAuthLoginDeps) {
  const { social, providers, identities, signIn, logger } = deps
  const store = oauthQueries(deps.db)
  const users = userQueries(deps.db)
  const allowedRedirects = new Set(social.redirectUrls)

  function providerOf(id: string): IdentityProvider {
    const provider = providers.get(id)
    if (!provider) throw new NotFound()
    return provider
  }

  const redirectUri = (id: string) => `${social.publicUrl}/v1/auth/oauth/${id}/callback`

  /** Records a failed social sign-in; a lost record must not turn the refusal into a 500. */
  function recordLoginFailure(ctx: RequestContext, userId?: Types.ObjectId): Promise<void> {
    return deps.audit
      .record({ event: 'login', outcome: 'failure', ...(userId ? { userId } : {}) }, ctx)
      .catch((error: unknown) => {
        logger.error({ err: error, reqId: ctx.requestId }, 'could not record a failed login')
      })
  }

  /**
   * The account a provider identity signs in to, following the contract: a known identity's
   * user; else the local account with the same verified address, if that account's address
   * is verified too (an unverified one may be an attacker's pre-registration); else a new
   * account without a password, but only for an address the provider verified: an account
   * made from an unverified one would be a pre-registration of someone else's address, which
   * its owner's later reset would verify while the provider identity stays linked.
   */
  async function resolveAccount(
    providerId: string,
    profile: ProviderProfile,
    ctx: RequestContext,
  ): Promise<SessionUser | { error: CallbackError; userId?: Types.ObjectId }> {
    const known = await identities.find(providerId, profile.subject)
    if (known) {
      const user = await users.findById(known.userId)
      if (user) return user
      await identities.removeOrphan(known)
    }
    if (!profile.email || !plainAddress.test(profile.email)) return { error: 'email_required' }
    const email = normalizeEmail(profile.email)
    const local = await users.findByEmail(email)
    if (local) {
      if (!profile.emailVerified || local.emailVerified !== true) {
        return { error: 'account_exists', userId: local._id }
      }
      const linked = await identities.link(local._id, providerId, profile, ctx)
      return linked === 'linked' ? local : { error: 'account_exists', userId: local._id }
    }
    if (!profile.emailVerified) return { error: 'email_not_verified' }
    let created: SessionUser
    try {
      created = await users.insert({
        email,
        name: profile.name ?? '',
        emailVerified: true,
        roles: ['user'],
        now: deps.now(),
      })
    } catch (error) {
      // The address was taken between the lookup and the insert.
      if (isDuplicateKey(error)) return { error: 'account_exists' }
      throw error
    }
    await deps.audit.record({ event: 'signup', outcome: 'success', userId: created._id }, ctx)
    if ((await identities.link(created._id, providerId, profile, ctx)) !== 'linked') {
      // Another callback linked this identity first: the account just made is not needed.
      await users.delete(created._id)
      return { error: 'account_exists' }
    }
    return created
  }

  async function linkTo(
    state: OAuthStateRecord & { linkUserId: Types.ObjectId },
    profile: ProviderProfile,
    ctx: RequestContext,
  ): Promise<CallbackError | undefined> {
    const user = await users.findById(state.linkUserId)
    // A credential change since the link started (a password change after a stolen token, a
    // disable) ends the link with the sessions it ended.
    if (!user || user.disabled === true || versionOf(user) !== (state.linkCredentialVersion ?? 0))
      return 'access_denied'
    const outcome = await identities.link(user._id, state.provider, profile, ctx)
    if (outcome === 'identity-taken') return 'identity_linked'
    if (outcome === 'provider-taken') return 'already_linked'
    return undefined
  }

  /**
   * Remembers a round trip (state, nonce, PKCE verifier and `binding`: the browser's hash for
   * a sign-in, the user for a link) and answers the provider's authorization URL. An unlisted
   * `redirect_to` is refused before anything is stored; a provider that cannot be reached is a
   * 503.
   */
  async function begin(
    providerId: string,
    redirectTo: string,
    binding:
      { browserHash: string } | { linkUserId: Types.ObjectId; linkCredentialVersion: number },
  ): Promise<string> {
    const provider = providerOf(providerId)
    const target = normalizeRedirectUrl(redirectTo)
    if (!target || !allowedRedirects.has(target)) {
      throw invalid('/redirect_to', 'must be one of the URLs in OAUTH_REDIRECT_URLS')
    }
    const state = newSecret()
    const checks = {
      state,
      ...(provider.usesNonce ? { nonce: oidc.randomNonce() } : {}),
      codeVerifier: oidc.randomPKCECodeVerifier(),
    }
    let url: URL
    try {
      url = await provider.authorizationUrl(redirectUri(providerId), checks)
    } catch (error) {
      logger.warn(
        { ...describeProviderError(error), provider: providerId },
        'social login provider unavailable',
      )
      throw withRetryAfter(new ServiceUnavailable(), providerRetryAfterSeconds)
    }
    await store.saveState({
      _id: hashSecret(state),
      provider: providerId,
      ...(checks.nonce ? { nonce: checks.nonce } : {}),
      codeVerifier: checks.codeVerifier,
      redirectTo: target,
      ...binding,
      expiresAt: new Date(deps.now().getTime() + stateLifetimeMs),
    })
    return url.href
  }

  return {
    list(): { id: string; name: string }[] {
      return [...providers.values()].map(({ id, name }) => ({ id, name }))
    },

    /**
     * The provider's authorization URL for a sign-in, and the value the browser keeps (a
     * cookie) to prove at the callback that it started this sign-in: a callback URL someone
     * else's sign-in produced then signs nobody in (login CSRF, RFC 9700 §4.7).
     */
    async start(
      providerId: string,
      redirectTo: string,
    ): Promise<{ authorizationUrl: string; browserBinding: string }> {
      const browserBinding = newSecret()
      const authorizationUrl = await begin(providerId, redirectTo, {
        browserHash: hashSecret(browserBinding),
      })
      return { authorizationUrl, browserBinding }
    },

    /**
     * The provider's authorization URL for linking to `link.userId`, refused at the callback
     * if the account's credentials changed since (`link.credentialVersion`). No browser binding: the
     * caller is a Bearer client that may sit on another site, and the link can only go to the
     * account whose token started it.
     */
    startLink(
      providerId: string,
      redirectTo: string,
      link: { userId: Types.ObjectId; credentialVersion: number },
    ): Promise<string> {
      return begin(providerId, redirectTo, {
        linkUserId: link.userId,
        linkCredentialVersion: link.credentialVersion,
      })
    },

    /**
     * Where the browser goes after the provider: `redirect_to#code=…` for a sign-in,
     * `redirect_to` for a link, `redirect_to#error=…` when it failed. An unknown, used or
     * expired state, or a sign-in's state presented by a browser that did not start it
     * (`browserBinding` missing or different), is a 400 without a redirect: there is no
     * trusted target to send it to.
     */
    async callback(
      providerId: string,
      state: string,
      browserBinding: string | undefined,
      rawQuery: string,
      ctx: RequestContext,
    ): Promise<string> {
      const provider = providerOf(providerId)
      const now = deps.now()
      // Taken before the browser is compared: a refused attempt spends the state too.
      const record = tokenShape.test(state)
        ? await store.consumeState(hashSecret(state), providerId, now)
        : null
      if (!record) throw unknownState()
      if (!record.linkUserId && !sameBrowser(browserBinding, record.browserHash)) {
        throw unknownState()
      }
      const fail = (error: CallbackError) => `${record.redirectTo}#error=${error}`

      let profile: ProviderProfile
      try {
        profile = await provider.complete(new URL(`${redirectUri(providerId)}?${rawQuery}`), {
          state,
          ...(record.nonce ? { nonce: record.nonce } : {}),
          codeVerifier: record.codeVerifier,
        })
      } catch (error) {
        const outcome: CallbackError =
          error instanceof ProviderDeniedError
            ? 'access_denied'
            : error instanceof ProviderUnavailableError
              ? 'temporarily_unavailable'
              : 'invalid_response'
        logger.warn(
          { ...describeProviderError(error), provider: providerId, outcome },
          'social login refused',
        )
        if (!record.linkUserId) await recordLoginFailure(ctx)
        return fail(outcome)
      }

      if (record.linkUserId) {
        const error = await linkTo({ ...record, linkUserId: record.linkUserId }, profile, ctx)
        return error ? fail(error) : record.redirectTo
      }
      const resolved = await resolveAccount(providerId, profile, ctx)
      if ('error' in resolved) {
        await recordLoginFailure(ctx, resolved.userId)
        return fail(resolved.error)
      }
      const code = newSecret()
      await store.saveCode({
        _id: hashSecret(code),
        userId: resolved._id,
        provider: providerId,
        subject: profile.subject,
        credentialVersion: versionOf(resolved),
        authTime: now,
        expiresAt: new Date(now.getTime() + codeLifetimeMs),
      })
      return `${record.redirectTo}#code=${code}`
    },

    /**
     * The session for a callback's one-time code, through the one sign-in step (which may
     * refuse a disabled account or ask for a second factor). A code outlives neither an
     * unlink of its identity nor a credential change of its account.
     */
    async exchange(code: string, ctx: RequestContext): Promise<SessionView> {
      const record = tokenShape.test(code)
        ? await store.consumeCode(hashSecret(code), deps.now())
        : null
      if (!record) throw new InvalidToken()
      const [user, identity] = await Promise.all([
        users.findById(record.userId),
        identities.find(record.provider, record.subject),
      ])
      if (
        !user ||
        !identity?.userId.equals(user._id) ||
        versionOf(user) !== record.credentialVersion
      ) {
        throw new InvalidToken()
      }
      return signIn.complete(user, { amr: ['fed'], authTime: record.authTime }, ctx)
    },
  }
}

export type OAuthLogin = ReturnType<typeof createOAuthLogin>
