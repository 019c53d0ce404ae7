import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { afterEach, describe, expect, it } from 'vitest'
import { startWithOidcProvider } from './oauth-harness.js'

// Debian's Chromium (scripts/test-all.sh installs it). Without it this test fails: a browser
// test that skips would pass on a machine that never ran it.
const chromiumPath = '/usr/bin/chromium'
const chromiumFlags = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/**
 * The front end's landing page as a team would write it: it reads the one-time code from the
 * fragment, exchanges it at users-api, and shows who is signed in.
 */
function landingPage(usersApi: string): string {
  return `<!doctype html>
<meta charset="utf-8">
<title>Signed in?</title>
<pre id="result">waiting</pre>
<script>
  (async () => {
    const out = document.getElementById('result')
    const params = new URLSearchParams(location.hash.slice(1))
    history.replaceState(null, '', location.pathname)
    if (!params.get('code')) { out.textContent = 'error: ' + params.get('error'); return }
    const exchange = await fetch(${JSON.stringify(`${usersApi}/v1/auth/oauth/token`)}, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: params.get('code') }),
    })
    const session = await exchange.json()
    if (!exchange.ok) { out.textContent = 'error: ' + session.code; return }
    const me = await fetch(${JSON.stringify(`${usersApi}/v1/users/me`)}, {
      headers: { authorization: 'Bearer ' + session.accessToken },
    })
    const claims = JSON.parse(atob(session.accessToken.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')))
    out.textContent = JSON.stringify({ me: await me.json(), amr: claims.amr })
  })()
</script>`
}

describe('social login in a real browser', () => {
  it('clicks through the provider’s login and consent and lands signed in', async () => {
    if (!existsSync(chromiumPath)) {
      throw new Error(`${chromiumPath} is missing: install Debian's chromium (scripts/test-all.sh)`)
    }
    // The front end's origin first: it is both the redirect target and a CORS origin.
    const front = createServer()
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve))
    cleanups.push(async () => {
      front.closeAllConnections()
      await new Promise((resolve) => front.close(resolve))
    })
    const frontOrigin = `http://127.0.0.1:${(front.address() as AddressInfo).port}`
    const landing = `${frontOrigin}/oauth/done`

    const social = await startWithOidcProvider(
      {},
      { OAUTH_REDIRECT_URLS: landing, CORS_ORIGINS: frontOrigin },
    )
    social.idp.accounts.set('browser-user', {
      email: 'browser@example.com',
      email_verified: true,
      name: 'Browser User',
    })
    front.on('request', (req, res) => {
      res.writeHead(req.url?.startsWith('/oauth/done') ? 200 : 404, {
        'content-type': 'text/html; charset=utf-8',
      })
      res.end(landingPage(social.publicUrl))
    })

    const profile = await mkdtemp(join(tmpdir(), 'users-auth-chromium-'))
    cleanups.push(() => rm(profile, { recursive: true, force: true }))
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      args: chromiumFlags,
      headless: true,
    })
    cleanups.push(() => context.close())
    const page = context.pages()[0] ?? (await context.newPage())

    await page.goto(
      `${social.publicUrl}/v1/auth/oauth/test/start?redirect_to=${encodeURIComponent(landing)}`,
    )
    // The provider's sign-in page, then its consent page.
    await page.fill('input[name="login"]', 'browser-user')
    await page.fill('input[name="password"]', 'any password')
    await page.click('button[type="submit"]')
    await page.waitForSelector('input[name="prompt"][value="consent"]', { state: 'attached' })
    await page.click('button[type="submit"]')

    await page.waitForURL(`${landing}**`)
    const result = page.locator('#result')
    await expect
      .poll(async () => (await result.textContent()) ?? '', { timeout: 15_000 })
      .toMatch(/^\{/)
    const shown = JSON.parse((await result.textContent()) ?? '{}') as {
      me: { email: string; hasPassword: boolean }
      amr: string[]
    }
    expect(shown.me).toMatchObject({ email: 'browser@example.com', hasPassword: false })
    expect(shown.amr).toEqual(['fed'])
    // The fragment (and its code) never reached a server: the landing page removed it too.
    expect(page.url()).toBe(landing)
  }, 60_000)
})
