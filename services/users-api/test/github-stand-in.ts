import { createHash, randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach } from 'vitest'

/** A GitHub user as `GET /user` shows it (abridged from GitHub's REST documentation). */
export interface GithubUserFixture {
  login: string
  id: number
  name: string | null
  emails: { email: string; verified: boolean; primary: boolean; visibility: string | null }[]
}

export interface GithubStandIn {
  /** Base of `/authorize` and `/access_token` (GitHub: https://github.com/login/oauth). */
  oauthUrl: string
  /** GitHub: https://api.github.com */
  apiUrl: string
  /** The user who approves the next authorization. */
  user: GithubUserFixture
  /** Makes the REST API answer 500 (GitHub having an outage). */
  apiDown: boolean
  /** What the token endpoint received, to check PKCE and client authentication. */
  tokenRequests: URLSearchParams[]
}

const open = new Set<() => void>()
afterEach(() => {
  for (const close of open) close()
  open.clear()
})

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' })
  res.end(JSON.stringify(body))
}

async function formBody(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
}

/**
 * A local stand-in for GitHub's OAuth app endpoints and the two REST calls users-api makes,
 * answering in GitHub's documented shapes (`/login/oauth/authorize` approves at once, as after
 * the user clicks "Authorize"; errors from `/access_token` come with status 200, as GitHub
 * sends them). It checks the client secret, the redirect URI and the PKCE verifier (S256).
 */
export async function startGithubStandIn(client: {
  clientId: string
  clientSecret: string
}): Promise<GithubStandIn> {
  const grants = new Map<string, { challenge: string; redirectUri: string; userId: number }>()
  const tokens = new Map<string, GithubUserFixture>()
  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      json(res, 500, { message: String(error) })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  open.add(() => {
    server.closeAllConnections()
    server.close()
  })
  const standIn: GithubStandIn = {
    oauthUrl: `${base}/login/oauth`,
    apiUrl: `${base}/api`,
    user: { login: 'octocat', id: 1, name: 'monalisa octocat', emails: [] },
    apiDown: false,
    tokenRequests: [],
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', base)
    if (req.method === 'GET' && url.pathname === '/login/oauth/authorize') {
      const q = url.searchParams
      if (q.get('client_id') !== client.clientId || q.get('code_challenge_method') !== 'S256') {
        json(res, 400, { error: 'invalid_request' })
        return
      }
      const code = randomBytes(10).toString('hex')
      grants.set(code, {
        challenge: q.get('code_challenge') ?? '',
        redirectUri: q.get('redirect_uri') ?? '',
        userId: standIn.user.id,
      })
      const back = new URL(q.get('redirect_uri') ?? '')
      back.searchParams.set('code', code)
      back.searchParams.set('state', q.get('state') ?? '')
      res.writeHead(302, { location: back.href })
      res.end()
      return
    }
    if (req.method === 'POST' && url.pathname === '/login/oauth/access_token') {
      const form = await formBody(req)
      standIn.tokenRequests.push(form)
      const code = form.get('code') ?? ''
      const grant = grants.get(code)
      grants.delete(code)
      const verifier = form.get('code_verifier') ?? ''
      const challenge = createHash('sha256').update(verifier).digest('base64url')
      if (
        !grant ||
        form.get('client_id') !== client.clientId ||
        form.get('client_secret') !== client.clientSecret ||
        form.get('redirect_uri') !== grant.redirectUri ||
        challenge !== grant.challenge
      ) {
        json(res, 200, {
          error: 'bad_verification_code',
          error_description: 'The code passed is incorrect or expired.',
          error_uri:
            'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code',
        })
        return
      }
      const token = `gho_${randomBytes(18).toString('hex')}`
      tokens.set(token, standIn.user)
      json(res, 200, { access_token: token, token_type: 'bearer', scope: 'read:user,user:email' })
      return
    }
    const user = tokens.get((req.headers.authorization ?? '').replace(/^Bearer /i, ''))
    if (url.pathname.startsWith('/api/')) {
      if (standIn.apiDown) {
        json(res, 500, { message: 'Server Error' })
        return
      }
      if (!user) {
        json(res, 401, {
          message: 'Requires authentication',
          documentation_url: 'https://docs.github.com/rest',
        })
        return
      }
      if (url.pathname === '/api/user') {
        json(res, 200, {
          login: user.login,
          id: user.id,
          node_id: 'MDQ6VXNlcjE=',
          avatar_url: 'https://github.com/images/error/octocat_happy.gif',
          html_url: `https://github.com/${user.login}`,
          type: 'User',
          site_admin: false,
          name: user.name,
          email: user.emails.find((e) => e.visibility === 'public')?.email ?? null,
          created_at: '2008-01-14T04:33:35Z',
          updated_at: '2008-01-14T04:33:35Z',
        })
        return
      }
      if (url.pathname === '/api/user/emails') {
        json(res, 200, user.emails)
        return
      }
    }
    json(res, 404, { message: 'Not Found' })
  }
  return standIn
}
