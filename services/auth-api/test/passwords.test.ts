import { afterEach, describe, expect, it } from 'vitest'
import { bearer, buildAuthApi, type Harness } from './auth-api-harness.js'

let harness: Harness | undefined
afterEach(async () => {
  await harness?.app.close()
  harness = undefined
})

async function start(env: Record<string, string> = {}): Promise<Harness> {
  harness = await buildAuthApi({ env })
  return harness
}

function post(h: Harness, url: string, payload: unknown, headers: Record<string, string> = bearer) {
  return h.app.inject({ method: 'POST', url, payload: payload as object, headers })
}

// Produced by the argon2 reference implementation's CLI (phc-winner-argon2, 20171227):
// `echo -n <password> | argon2 <salt> -id -t T -m logM -p P -l 32`.
const referenceVectors = [
  [
    'password',
    '$argon2id$v=19$m=1024,t=2,p=1$c29tZXNhbHQ$7FfsnA6vUe7qLpL/3Kqc3uR48ZJyFbUVt7jWZlf0Htk',
  ],
  [
    'correct horse battery staple',
    '$argon2id$v=19$m=1024,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$RC5JY/00hXKlnXZ/+PCVcJg84nuCQwbjIQ3DVCTomOQ',
  ],
  [
    'password',
    '$argon2id$v=19$m=4096,t=3,p=2$c29tZXNhbHQ$LpPABDeb1KgKypkPHbjfNPxMj3dnGUCphtUM0xpkh/U',
  ],
  [
    'pässwörd 🔑',
    '$argon2id$v=19$m=256,t=1,p=1$c29tZXNhbHQ$hhWJ4A26EjewrZGQChl5QN5DH7zVlGCzYEPPvMHh/VE',
  ],
] as const

describe('POST /v1/passwords/verify', () => {
  it.each(referenceVectors)('accepts the reference vector for %j', async (password, hash) => {
    const h = await start()
    const res = await post(h, '/v1/passwords/verify', { password, hash })
    expect(res.statusCode).toBe(200)
    expect(res.json<{ valid: boolean }>().valid).toBe(true)
  })

  it.each(referenceVectors)(
    'rejects a wrong password against the vector for %j',
    async (password, hash) => {
      const h = await start()
      const res = await post(h, '/v1/passwords/verify', { password: `${password}!`, hash })
      expect(res.json()).toEqual({ valid: false, needsRehash: false })
    },
  )

  it('runs the dummy hash for a null hash and answers invalid', async () => {
    const h = await start()
    const res = await post(h, '/v1/passwords/verify', { password: 'whatever it is', hash: null })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ valid: false, needsRehash: false })
    const metrics = await h.app.inject({ method: 'GET', url: '/metrics' })
    expect(metrics.body).toMatch(/auth_password_job_duration_seconds_count\{operation="verify"\} 1/)
  })

  it.each([
    ['bcrypt', '$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy'],
    ['garbage', 'not a hash at all'],
    ['truncated', '$argon2id$v=19$m=1024,t=2,p=1$c29tZXNhbHQ'],
    [
      'missing parameter',
      '$argon2id$v=19$m=1024,t=2$c29tZXNhbHQ$7FfsnA6vUe7qLpL/3Kqc3uR48ZJyFbUVt7jWZlf0Htk',
    ],
    [
      'memory bomb',
      '$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHQ$7FfsnA6vUe7qLpL/3Kqc3uR48ZJyFbUVt7jWZlf0Htk',
    ],
    [
      'zero time',
      '$argon2id$v=19$m=1024,t=0,p=1$c29tZXNhbHQ$7FfsnA6vUe7qLpL/3Kqc3uR48ZJyFbUVt7jWZlf0Htk',
    ],
    [
      'bad base64',
      '$argon2id$v=19$m=1024,t=2,p=1$c29t!!!ZXNhbHQ$7FfsnA6vUe7qLpL/3Kqc3uR48ZJyFbUVt7jWZlf0Htk',
    ],
  ])('answers 400 for a %s hash, never 500', async (_name, hash) => {
    const h = await start()
    const res = await post(h, '/v1/passwords/verify', { password: 'password', hash })
    expect(res.statusCode).toBe(400)
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8')
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED' })
  })

  it('asks for a rehash when the configured parameters rise', async () => {
    const h = await start()
    const { hash } = (
      await post(h, '/v1/passwords/hash', { password: 'a long enough password' })
    ).json<{ hash: string }>()
    const same = await post(h, '/v1/passwords/verify', { password: 'a long enough password', hash })
    expect(same.json()).toEqual({ valid: true, needsRehash: false })
    await h.app.close()

    const stronger = await start({ ARGON2_MEMORY_KIB: '2048', ARGON2_ITERATIONS: '2' })
    const res = await post(stronger, '/v1/passwords/verify', {
      password: 'a long enough password',
      hash,
    })
    expect(res.json()).toEqual({ valid: true, needsRehash: true })
    // A wrong password never triggers a rehash.
    const wrong = await post(stronger, '/v1/passwords/verify', {
      password: 'not the password',
      hash,
    })
    expect(wrong.json()).toEqual({ valid: false, needsRehash: false })
  })

  // Written by the `argon2` package 0.45 (m,p,t order), as users-api stored them until now.
  const legacyVectors = [
    [
      'correct horse battery staple',
      '$argon2id$v=19$m=1024,p=1,t=1$3BzmsSuX9n2wgM4tEX8AFQ$lIhecZAqPfrv24Ep4siaWpOcp3WiqkhogzUmu+2LWUc',
    ],
    [
      'pässwörd 🔑',
      '$argon2id$v=19$m=1024,p=1,t=1$9wU9UI1xIR1mRtIzQM4CsQ$EBjTKiZARomOe76uc1FVt67pOERImuDiapJoQIE43N0',
    ],
  ] as const

  it.each(legacyVectors)(
    'verifies a hash in the old m,p,t order for %j and asks for its rehash',
    async (password, hash) => {
      const h = await start()
      const right = await post(h, '/v1/passwords/verify', { password, hash })
      expect(right.json()).toEqual({ valid: true, needsRehash: true })
      const wrong = await post(h, '/v1/passwords/verify', { password: `${password}!`, hash })
      expect(wrong.json()).toEqual({ valid: false, needsRehash: false })
    },
  )

  // The test configuration is m=1024, t=1, p=1: stored costs up to four times that verify.
  // Made with the reference CLI: `echo -n password | argon2 somesalt -id -t T -k M -p P -l 32`.
  it('verifies a stored hash at four times every configured cost', async () => {
    const h = await start()
    const hash =
      '$argon2id$v=19$m=4096,t=4,p=4$c29tZXNhbHQ$US5+Jzv1FF8iaBim/ROieGrqQlYbguDaVn9ftdT1GM0'
    const res = await post(h, '/v1/passwords/verify', { password: 'password', hash })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ valid: true, needsRehash: true })
  })

  it.each([
    [
      'memory',
      '$argon2id$v=19$m=4097,t=1,p=1$c29tZXNhbHQ$p5PJHvozEPp1x+KfTjfeDGaT50Epp4xtJSQPkr/de3c',
    ],
    [
      'time',
      '$argon2id$v=19$m=1024,t=5,p=1$c29tZXNhbHQ$YgjElf2WEu6I87HVbGHFVOAcUmviy1VXqlMQIgre/6E',
    ],
    [
      'parallelism',
      '$argon2id$v=19$m=1024,t=1,p=5$c29tZXNhbHQ$eXAUc3Es22nOgegxaOTi5j3BsyU0Jkl9mvF0S7TYc/w',
    ],
  ])(
    'refuses with 400, before any argon2 work, a valid hash whose %s is one above the bound',
    async (_name, hash) => {
      const h = await start()
      const res = await post(h, '/v1/passwords/verify', { password: 'password', hash })
      expect(res.statusCode).toBe(400)
      expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED' })
      const metrics = await h.app.inject({ method: 'GET', url: '/metrics' })
      expect(metrics.body).not.toMatch(
        /auth_password_job_duration_seconds_count\{operation="verify"\}/,
      )
    },
  )

  it('asks for a rehash of an older argon2 variant', async () => {
    const h = await start()
    // argon2i, reference CLI: `echo -n password | argon2 somesalt -i -t 2 -m 10 -p 1 -l 32`
    const argon2i =
      '$argon2i$v=19$m=1024,t=2,p=1$c29tZXNhbHQ$/AomWzXGuO56QhmXE3p9/0R81VDwTUaD1xQMkGw+IbQ'
    const res = await post(h, '/v1/passwords/verify', { password: 'password', hash: argon2i })
    expect(res.json()).toEqual({ valid: true, needsRehash: true })
  })
})

describe('POST /v1/passwords/hash', () => {
  it('returns an argon2id PHC string with the configured parameters', async () => {
    const h = await start()
    const res = await post(h, '/v1/passwords/hash', { password: 'correct horse battery staple' })
    expect(res.statusCode).toBe(200)
    const { hash } = res.json<{ hash: string }>()
    // The standard PHC order (m, t, p) that every other argon2 implementation reads; a 16-byte
    // salt and a 32-byte digest, unpadded base64.
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/)
    const again = (
      await post(h, '/v1/passwords/hash', { password: 'correct horse battery staple' })
    ).json<{ hash: string }>()
    expect(again.hash).not.toBe(hash)
  })

  it('refuses passwords over 1,024 bytes before hashing, counting bytes not characters', async () => {
    const h = await start()
    const fits = await post(h, '/v1/passwords/hash', { password: 'a'.repeat(1024) })
    expect(fits.statusCode).toBe(200)
    const multibyte = await post(h, '/v1/passwords/hash', { password: 'é'.repeat(600) })
    expect(multibyte.statusCode).toBe(400)
    expect(multibyte.json()).toMatchObject({ code: 'VALIDATION_FAILED' })
    const metrics = await h.app.inject({ method: 'GET', url: '/metrics' })
    expect(metrics.body).toMatch(/auth_password_job_duration_seconds_count\{operation="hash"\} 1\n/)
  })

  it('rejects unknown fields and wrong types', async () => {
    const h = await start()
    for (const body of [
      { password: 'x', extra: 1 },
      { password: 12345 },
      { password: { $ne: null } },
      {},
    ]) {
      const res = await post(h, '/v1/passwords/hash', body)
      expect(res.statusCode).toBe(400)
    }
  })

  it('answers 503 with Retry-After at once when the hashing queue is full', async () => {
    const h = await start({
      ARGON2_MEMORY_KIB: '16384',
      ARGON2_ITERATIONS: '3',
      HASH_CONCURRENCY: '1',
      HASH_QUEUE_LIMIT: '1',
    })
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        post(h, '/v1/passwords/hash', { password: 'burst of hashing' }),
      ),
    )
    const codes = results.map((r) => r.statusCode)
    expect(codes.filter((c) => c === 200).length).toBeGreaterThanOrEqual(2)
    const shed = results.filter((r) => r.statusCode === 503)
    expect(shed.length).toBeGreaterThanOrEqual(1)
    for (const r of shed) {
      expect(r.headers['retry-after']).toBe('1')
      expect(r.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE' })
    }
  })

  it('gives up on a waiter after the queue timeout', async () => {
    const h = await start({
      ARGON2_MEMORY_KIB: '65536',
      ARGON2_ITERATIONS: '4',
      HASH_CONCURRENCY: '1',
      HASH_QUEUE_LIMIT: '10',
      HASH_QUEUE_TIMEOUT_MS: '1',
    })
    const results = await Promise.all(
      Array.from({ length: 3 }, () =>
        post(h, '/v1/passwords/hash', { password: 'slow hashing here' }),
      ),
    )
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 503, 503])
  })
})

describe('service credential', () => {
  it('is required on every /v1 route', async () => {
    const h = await start()
    const routes = [
      ['/v1/passwords/hash', { password: 'x' }],
      ['/v1/passwords/verify', { password: 'x', hash: null }],
      ['/v1/tokens', { sub: 'u', sid: 's', roles: ['user'] }],
    ] as const
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong' },
      { authorization: 'Basic abc' },
      { authorization: 'Bearer' },
    ]
    for (const [url, body] of routes) {
      for (const headers of attempts) {
        const res = await post(h, url, body, headers)
        expect(res.statusCode).toBe(401)
        expect(res.json()).toMatchObject({ code: 'UNAUTHORIZED', status: 401 })
      }
    }
  })

  it('accepts every credential of a rotation and leaves ops endpoints open', async () => {
    const h = await start({
      INTERNAL_API_TOKEN:
        'old-credential-aaaaaaaaaaaaaaaaaaaaaaaa, new-credential-bbbbbbbbbbbbbbbbbbbbbbbb',
    })
    for (const credential of [
      'old-credential-aaaaaaaaaaaaaaaaaaaaaaaa',
      'new-credential-bbbbbbbbbbbbbbbbbbbbbbbb',
    ]) {
      const res = await post(
        h,
        '/v1/tokens',
        { sub: 'u', sid: 's', roles: ['user'] },
        { authorization: `Bearer ${credential}` },
      )
      expect(res.statusCode).toBe(200)
    }
    for (const url of [
      '/healthz',
      '/readyz',
      '/metrics',
      '/.well-known/jwks.json',
      '/openapi.json',
    ]) {
      expect((await h.app.inject({ method: 'GET', url })).statusCode).toBe(200)
    }
  })

  it('never logs the credential, a password or a hash', async () => {
    const h = await start()
    const { hash } = (
      await post(h, '/v1/passwords/hash', { password: 'secret-password-value' })
    ).json<{ hash: string }>()
    await post(h, '/v1/passwords/verify', { password: 'secret-password-value', hash })
    await post(h, '/v1/passwords/verify', { password: 'secret-password-value', hash: 'bogus' })
    const logs = h.logs()
    expect(logs).toContain('/v1/passwords/verify')
    for (const secret of ['secret-password-value', hash, 'test-credential-0123456789abcdef']) {
      expect(logs).not.toContain(secret)
    }
  })
})

describe('errors', () => {
  it('renders every error it can produce as problem+json', async () => {
    const h = await start()
    const cases = [
      [
        await h.app.inject({ method: 'GET', url: '/v1/nothing-here', headers: bearer }),
        404,
        'NOT_FOUND',
      ],
      [
        await h.app.inject({
          method: 'POST',
          url: '/v1/passwords/hash',
          headers: { ...bearer, 'content-type': 'text/plain' },
          payload: 'x',
        }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        await h.app.inject({
          method: 'POST',
          url: '/v1/passwords/hash',
          headers: { ...bearer, 'content-type': 'application/json' },
          payload: JSON.stringify({ password: 'x'.repeat(20_000) }),
        }),
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [
        await h.app.inject({
          method: 'POST',
          url: '/v1/passwords/hash',
          headers: { ...bearer, 'content-type': 'application/json' },
          payload: '{"password":',
        }),
        400,
        'VALIDATION_FAILED',
      ],
    ] as const
    for (const [res, status, code] of cases) {
      expect(res.statusCode).toBe(status)
      expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8')
      expect(res.json()).toMatchObject({ status, code, traceId: res.headers['x-request-id'] })
    }
  })
})

describe('passwords with lone surrogates', () => {
  // UTF-8 turns each lone surrogate into U+FFFD: hashed as they are, these three would match.
  it.each(['/v1/passwords/hash', '/v1/passwords/verify'])('are a 400 on %s', async (url) => {
    const h = await start()
    for (const password of ['maple quartz ferry\ud800', '\udfffmaple quartz ferry']) {
      const body = url.endsWith('/verify') ? { password, hash: null } : { password }
      const res = await post(h, url, body)
      expect(res.statusCode).toBe(400)
      expect(res.json<{ code: string }>().code).toBe('VALIDATION_FAILED')
    }
  })

  it('still hashes and verifies paired surrogates (emoji)', async () => {
    const h = await start()
    const { hash } = (await post(h, '/v1/passwords/hash', { password: 'key 🔑 lock' })).json<{
      hash: string
    }>()
    const res = await post(h, '/v1/passwords/verify', { password: 'key 🔑 lock', hash })
    expect(res.json<{ valid: boolean }>().valid).toBe(true)
  })
})
