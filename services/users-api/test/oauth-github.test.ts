import { describe, expect, it } from 'vitest'
import { startGithubStandIn, type GithubStandIn } from './github-stand-in.js'
import {
  clientId,
  clientSecret,
  deliverCallback,
  exchange,
  fragment,
  startLogin,
  startSocialPair,
  type SocialPair,
} from './oauth-harness.js'
import type { SessionBody } from './pair-harness.js'

async function startWithGithub(): Promise<SocialPair & { github: GithubStandIn }> {
  const github = await startGithubStandIn({ clientId, clientSecret })
  const social = await startSocialPair(() => ({
    OAUTH_PROVIDERS: 'github',
    OIDC_GITHUB_CLIENT_ID: clientId,
    OIDC_GITHUB_CLIENT_SECRET: clientSecret,
    OIDC_GITHUB_OAUTH_URL: github.oauthUrl,
    OIDC_GITHUB_API_URL: github.apiUrl,
  }))
  return { ...social, github }
}

/** Start, GitHub's approval (the stand-in approves at once), and users-api's callback. */
async function throughGithub(social: SocialPair): Promise<URL> {
  const approved = await fetch(await startLogin(social, 'github'), { redirect: 'manual' })
  return deliverCallback(new URL(approved.headers.get('location') ?? ''), social.browser)
}

describe('social login with GitHub (OAuth 2 and its REST API)', () => {
  it('signs in with the primary verified address and GitHub’s numeric id', async () => {
    const social = await startWithGithub()
    social.github.user = {
      login: 'octocat',
      id: 583231,
      name: 'The Octocat',
      emails: [
        { email: 'old@example.com', verified: true, primary: false, visibility: null },
        { email: 'octocat@example.com', verified: true, primary: true, visibility: 'public' },
      ],
    }
    const { code = '' } = fragment(await throughGithub(social))
    const res = await exchange(social, code)
    expect(res.status).toBe(200)
    const session = (await res.json()) as SessionBody & { user: Record<string, unknown> }
    expect(session.user).toMatchObject({
      email: 'octocat@example.com',
      emailVerified: true,
      hasPassword: false,
      name: 'The Octocat',
    })
    const identity = await social.pair.db.collection('identities').findOne()
    expect(identity).toMatchObject({ provider: 'github', subject: '583231' })
    // PKCE: the token request carried a verifier, and the client authenticated with its secret.
    expect(social.github.tokenRequests[0]?.get('code_verifier')).toMatch(/^[A-Za-z0-9_-]{43,}$/)
  })

  it('takes no address when the primary one is unverified (#error=email_required)', async () => {
    const social = await startWithGithub()
    social.github.user = {
      login: 'mallory',
      id: 666,
      name: null,
      emails: [
        { email: 'victim@example.com', verified: false, primary: true, visibility: null },
        { email: 'mallory@example.com', verified: true, primary: false, visibility: null },
      ],
    }
    expect(fragment(await throughGithub(social))).toEqual({ error: 'email_required' })
    expect(await social.pair.db.collection('users').countDocuments()).toBe(0)
  })

  it('ends at #error=temporarily_unavailable when GitHub’s API fails', async () => {
    const social = await startWithGithub()
    social.github.user.emails = [
      { email: 'octocat@example.com', verified: true, primary: true, visibility: null },
    ]
    social.github.apiDown = true
    expect(fragment(await throughGithub(social))).toEqual({ error: 'temporarily_unavailable' })
  })

  it('lists GitHub among the providers', async () => {
    const social = await startWithGithub()
    const res = await fetch(`${social.publicUrl}/v1/auth/oauth/providers`)
    expect(await res.json()).toEqual({ items: [{ id: 'github', name: 'GitHub' }] })
  })
})
