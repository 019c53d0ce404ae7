import { randomBytes } from 'node:crypto'
import { createServer, Socket, type Server } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { maxRotationsPerSession } from '../src/domain/sessions.js'
import { FaultProxy } from './fault-proxy.js'
import { MongoTap } from './mongo-tap.js'
import {
  get,
  goodPassword,
  login,
  makeAdmin,
  post,
  problem,
  send,
  signup,
  startPair,
  startReplica,
  type Pair,
} from './pair-harness.js'
import { testRedis } from './redis-harness.js'

// Two replicas share MongoDB and Redis; each caches the callers it has seen. Whatever one
// replica revokes or changes, the other must see on the very next request.
// The cache is only on with Redis.
const redis = testRedis('principal:')
const redisUrl = redis.url
const apps: FastifyInstance[] = []
const servers: Server[] = []

afterEach(async () => {
  for (const app of apps.splice(0)) await app.close()
  for (const server of servers.splice(0)) server.close()
})

/**
 * A TCP path to Redis that holds back, for `delay.ms`, what a client sends about session
 * stamps (order kept), and tells when it does: a slow Redis for one replica.
 */
async function slowStampPath(delay: { ms: number; seen?: () => void }): Promise<string> {
  const server = createServer((client) => {
    const upstream = new Socket()
    client.on('error', () => undefined)
    upstream.on('error', () => client.destroy())
    upstream.connect(6379, '127.0.0.1')
    let chain = Promise.resolve()
    client.on('data', (chunk) => {
      const ms = chunk.includes('principal:s:') ? delay.ms : 0
      if (ms > 0) delay.seen?.()
      chain = chain
        .then(() => (ms > 0 ? sleep(ms) : undefined))
        .then(() => void upstream.write(chunk))
    })
    upstream.pipe(client)
    client.on('close', () => upstream.destroy())
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (!address || typeof address === 'string') throw new Error('no address')
  return `redis://127.0.0.1:${String(address.port)}`
}

async function twoReplicas(
  bRedisUrl = redisUrl,
): Promise<{ pair: Pair; a: FastifyInstance; b: FastifyInstance }> {
  const env = { REDIS_URL: redisUrl, REDIS_PREFIX: redis.newPrefix(), RATE_LIMIT_IP_MAX: '1000' }
  const pair = await startPair({ usersEnv: env })
  apps.push(pair.users, pair.auth)
  const b = await startReplica(pair, { ...env, REDIS_URL: bRedisUrl })
  apps.push(b)
  return { pair, a: pair.users, b }
}

/** Reads /me on a replica several times, so the principal is surely in its cache. */
async function warm(app: FastifyInstance, token: string): Promise<void> {
  for (let i = 0; i < 3; i++) expect((await get(app, '/v1/users/me', token)).statusCode).toBe(200)
}

describe('the cached caller of an authenticated request', () => {
  it('is refused on the other replica right after a logout', async () => {
    const { a, b } = await twoReplicas()
    const s = await signup(a, 'cache-logout@example.com')
    await warm(b, s.accessToken)
    expect((await post(a, '/v1/auth/logout', {}, s.accessToken)).statusCode).toBe(204)
    expect((await get(b, '/v1/users/me', s.accessToken)).statusCode).toBe(401)
  })

  it('sees a rename made on the other replica, and a revoked session, at once', async () => {
    const { a, b } = await twoReplicas()
    const first = await signup(a, 'cache-rename@example.com')
    const second = await login(a, 'cache-rename@example.com')
    await warm(b, first.accessToken)
    await warm(b, second.accessToken)
    const renamed = await send(a, 'PATCH', '/v1/users/me', { name: 'Renamed' }, first.accessToken)
    expect(renamed.statusCode).toBe(200)
    expect((await get(b, '/v1/users/me', second.accessToken)).json()).toMatchObject({
      name: 'Renamed',
    })
    const { items } = (await get(a, '/v1/users/me/sessions', second.accessToken)).json<{
      items: { id: string; current: boolean }[]
    }>()
    const other = items.find((s) => !s.current)
    expect(other).toBeDefined()
    const revoked = await send(
      a,
      'DELETE',
      `/v1/users/me/sessions/${other?.id ?? ''}`,
      undefined,
      second.accessToken,
    )
    expect(revoked.statusCode).toBe(204)
    expect((await get(b, '/v1/users/me', first.accessToken)).statusCode).toBe(401)
    expect((await get(b, '/v1/users/me', second.accessToken)).statusCode).toBe(200)
  })

  it('ends every other session on the other replica after a password change', async () => {
    const { a, b } = await twoReplicas()
    const kept = await signup(a, 'cache-password@example.com')
    const others = await Promise.all([1, 2, 3].map(() => login(a, 'cache-password@example.com')))
    for (const s of others) await warm(b, s.accessToken)
    const changed = await post(
      a,
      '/v1/users/me/password',
      { currentPassword: goodPassword, newPassword: 'a different passphrase entirely' },
      kept.accessToken,
    )
    expect(changed.statusCode).toBe(204)
    for (const s of others)
      expect((await get(b, '/v1/users/me', s.accessToken)).statusCode).toBe(401)
    expect((await get(b, '/v1/users/me', kept.accessToken)).statusCode).toBe(200)
  })

  it('answers a refresh on the other replica with the user as changed there', async () => {
    const { a, b } = await twoReplicas()
    const s = await signup(a, 'cache-refresh@example.com')
    // Refreshes on b keep the user in b's cache.
    let refreshToken = s.refreshToken
    let accessToken = s.accessToken
    for (let i = 0; i < 3; i++) {
      const res = await post(b, '/v1/auth/refresh', { refreshToken })
      expect(res.statusCode).toBe(200)
      ;({ refreshToken, accessToken } = res.json<{ refreshToken: string; accessToken: string }>())
    }
    const renamed = await send(a, 'PATCH', '/v1/users/me', { name: 'Changed' }, accessToken)
    expect(renamed.statusCode).toBe(200)
    const res = await post(b, '/v1/auth/refresh', { refreshToken })
    expect(res.json<{ user: { name: string } }>().user.name).toBe('Changed')
  })

  it('never caches a session read before a logout on the other replica', async () => {
    const delay: { ms: number; seen?: () => void } = { ms: 0 }
    const { a, b } = await twoReplicas(await slowStampPath(delay))
    const s = await signup(a, 'cache-race@example.com')
    // b looks the caller up; its stamp read then waits while a logs out. Had b read MongoDB
    // before its stamps, it would keep the live session under the stamps set after the logout.
    delay.ms = 300
    const stampReadSent = new Promise<void>((resolve) => (delay.seen = resolve))
    const looking = get(b, '/v1/users/me', s.accessToken)
    await stampReadSent
    delay.seen = undefined
    expect((await post(a, '/v1/auth/logout', {}, s.accessToken)).statusCode).toBe(204)
    expect((await looking).statusCode).toBe(401)
    delay.ms = 0
    for (let i = 0; i < 5; i++) {
      expect((await get(b, '/v1/users/me', s.accessToken)).statusCode).toBe(401)
    }
  })

  it('caches nothing a refresh read: a logout on the other replica holds at once', async () => {
    const { a, b } = await twoReplicas()
    const s = await signup(a, 'cache-refresh@example.com')
    const refreshed = await post(b, '/v1/auth/refresh', { refreshToken: s.refreshToken })
    expect(refreshed.statusCode).toBe(200)
    const { accessToken } = refreshed.json<{ accessToken: string }>()
    expect((await post(a, '/v1/auth/logout', {}, accessToken)).statusCode).toBe(204)
    expect((await get(b, '/v1/users/me', accessToken)).statusCode).toBe(401)
  })

  it('drops what it cached when its Redis connection is lost (a failover, a restore)', async () => {
    const proxy = new FaultProxy({ host: '127.0.0.1', port: 6379 })
    const proxied = `redis://${(await proxy.start()).replace(/^[a-z]+:\/\//, '')}`
    try {
      const { a, b } = await twoReplicas(proxied)
      const s = await signup(a, 'cache-failover@example.com')
      await warm(b, s.accessToken)
      const stamps = await redis.client.keys(`${redis.prefix}principal:*`)
      const before = await Promise.all(
        stamps.map(async (key) => [key, await redis.client.get(key)]),
      )
      expect((await post(a, '/v1/auth/logout', {}, s.accessToken)).statusCode).toBe(204)
      // A Redis that comes back with the stamps from before the logout (an asynchronous
      // replica promoted, a snapshot restored): b's connection drops and comes back.
      for (const [key, value] of before)
        await redis.client.set(key ?? '', value ?? '', 'PX', 600_000)
      proxy.cut()
      await sleep(300)
      for (let i = 0; i < 3; i++) {
        expect((await get(b, '/v1/users/me', s.accessToken)).statusCode).toBe(401)
      }
    } finally {
      await proxy.stop()
    }
  })

  it('refuses a disabled account on the other replica on its next request', async () => {
    const { pair, a, b } = await twoReplicas()
    const admin = await makeAdmin(pair, 'cache-admin@example.com')
    const victim = await signup(a, 'cache-victim@example.com')
    await warm(b, victim.accessToken)
    const res = await send(a, 'PATCH', `/v1/users/${victim.user.id}`, { disabled: true }, admin)
    expect(res.statusCode).toBe(200)
    expect((await get(b, '/v1/users/me', victim.accessToken)).statusCode).toBe(401)
  })

  it('never serves a session deleted while requests for it were in flight', async () => {
    const { a, b } = await twoReplicas()
    const s = await signup(a, 'cache-race@example.com')
    await warm(b, s.accessToken)
    // Reads on b race the logout on a; once the logout has answered, no read may pass.
    const racing = Array.from({ length: 20 }, () => get(b, '/v1/users/me', s.accessToken))
    const logout = await post(a, '/v1/auth/logout', {}, s.accessToken)
    expect(logout.statusCode).toBe(204)
    await Promise.all(racing)
    for (let i = 0; i < 5; i++) {
      expect((await get(b, '/v1/users/me', s.accessToken)).statusCode).toBe(401)
    }
  })

  it('keeps stamps only under its own prefix, and survives their loss', async () => {
    const { a, b } = await twoReplicas()
    const s = await signup(a, 'cache-stamps@example.com')
    await warm(b, s.accessToken)
    const keys = await redis.client.keys(`${redis.prefix}principal:*`)
    expect(keys.length).toBe(2)
    // A Redis that lost its keys (a restart): the next read goes to MongoDB and still answers.
    await redis.client.del(...keys)
    expect((await get(b, '/v1/users/me', s.accessToken)).statusCode).toBe(200)
    await post(a, '/v1/auth/logout', {}, s.accessToken)
    expect((await get(b, '/v1/users/me', s.accessToken)).statusCode).toBe(401)
  })

  it('reads MongoDB while Redis is away, and refuses a logout it could not announce', async () => {
    const prefix = redis.newPrefix()
    const proxy = new FaultProxy({ host: '127.0.0.1', port: 6379 })
    const proxied = `redis://${(await proxy.start()).replace(/^[a-z]+:\/\//, '')}`
    try {
      const pair = await startPair({ usersEnv: { REDIS_URL: proxied, REDIS_PREFIX: prefix } })
      apps.push(pair.users, pair.auth)
      const s = await signup(pair.users, 'cache-away@example.com')
      await warm(pair.users, s.accessToken)
      proxy.mode = 'refuse'
      proxy.cut()
      // No stamp to be had: the caller is read from MongoDB, without waiting for Redis.
      expect((await get(pair.users, '/v1/users/me', s.accessToken)).statusCode).toBe(200)
      // A logout no other replica could hear of is refused whole, and changes nothing.
      const logout = await post(pair.users, '/v1/auth/logout', {}, s.accessToken)
      expect(logout.statusCode).toBe(503)
      expect(logout.headers['retry-after']).toBeDefined()
      expect((await get(pair.users, '/v1/users/me', s.accessToken)).statusCode).toBe(200)
    } finally {
      await proxy.stop()
    }
  })

  it('rotates a session it has cached with one MongoDB command: the conditional update', async () => {
    const tap = new MongoTap()
    const pair = await startPair({
      usersEnv: { REDIS_URL: redisUrl, REDIS_PREFIX: redis.newPrefix() },
      mongoUri: await tap.start(inject('mongoUri')),
    })
    try {
      const s = await signup(pair.users, 'cache-rotate@example.com')
      await warm(pair.users, s.accessToken)
      let { refreshToken } = s
      for (let i = 0; i < 3; i++) {
        tap.commands.length = 0
        const res = await post(pair.users, '/v1/auth/refresh', { refreshToken })
        expect(res.statusCode).toBe(200)
        ;({ refreshToken } = res.json<{ refreshToken: string }>())
        // No read of the session or the user: Redis's stamps vouch for the cached user, and
        // the update itself checks the token and the session.
        expect(tap.commands.filter((c) => / (sessions|users)$/.test(c))).toEqual([
          'update sessions',
        ])
      }
      // A session stored before credential versions and rotation counts were has neither: it
      // is at version 0, with no rotation so far.
      await pair.db
        .collection('sessions')
        .updateMany({}, { $unset: { credentialVersion: '', rotations: '' } })
      tap.commands.length = 0
      expect((await post(pair.users, '/v1/auth/refresh', { refreshToken })).statusCode).toBe(200)
      expect(tap.commands.filter((c) => / (sessions|users)$/.test(c))).toEqual(['update sessions'])
    } finally {
      await pair.close()
      await tap.stop()
    }
  })

  it('answers a retry within the reuse grace with the same pair for a session it has cached', async () => {
    const pair = await startPair({
      usersEnv: {
        REDIS_URL: redisUrl,
        REDIS_PREFIX: redis.newPrefix(),
        REFRESH_REUSE_GRACE: '10s',
      },
    })
    const s = await signup(pair.users, 'cache-grace@example.com')
    await warm(pair.users, s.accessToken)
    const [first, retry] = [
      await post(pair.users, '/v1/auth/refresh', { refreshToken: s.refreshToken }),
      await post(pair.users, '/v1/auth/refresh', { refreshToken: s.refreshToken }),
    ]
    expect(first.statusCode).toBe(200)
    expect(retry.statusCode).toBe(200)
    const pairOf = (r: typeof first) => {
      const { accessToken, refreshToken } = r.json<{ accessToken: string; refreshToken: string }>()
      return { accessToken, refreshToken }
    }
    expect(pairOf(retry)).toEqual(pairOf(first))
  })

  it('keeps every refresh rule for a session it has cached, whatever MongoDB says behind it', async () => {
    const { pair, a, b } = await twoReplicas()
    const sessions = pair.db.collection<{ _id: string }>('sessions')
    const refresh = (app: FastifyInstance, refreshToken: string) =>
      post(app, '/v1/auth/refresh', { refreshToken })
    /**
     * A session that b has cached and last rotated (so it takes b's fast rotation), its id, and
     * a direct write to it (no stamp moves).
     */
    async function cachedOnB(email: string, change?: Record<string, unknown>) {
      const s = await signup(a, email)
      await warm(b, s.accessToken)
      const rotated = await refresh(b, s.refreshToken)
      expect(rotated.statusCode).toBe(200)
      const { refreshToken } = rotated.json<{ refreshToken: string }>()
      const id = s.refreshToken.split('.')[0] ?? ''
      if (change) await sessions.updateOne({ _id: id }, change)
      return { ...s, refreshToken, id }
    }

    // A replayed token: the session ends.
    const replayed = await cachedOnB('fast-replay@example.com')
    const next = (await refresh(b, replayed.refreshToken)).json<{ refreshToken: string }>()
    problem(await refresh(b, replayed.refreshToken), 401, 'REFRESH_TOKEN_REUSED')
    problem(await refresh(b, next.refreshToken), 401, 'REFRESH_TOKEN_INVALID')

    // Expired, at its rotation cap, or at another credential version (as a session a racing
    // login started is born): refused, although b's cache still holds it as it was. The last
    // two are ended, so their access tokens die with them.
    const expired = await cachedOnB('fast-expired@example.com', {
      $set: { expiresAt: new Date(Date.now() - 1000) },
    })
    problem(await refresh(b, expired.refreshToken), 401, 'REFRESH_TOKEN_INVALID')
    for (const [email, change] of [
      ['fast-cap@example.com', { $set: { rotations: maxRotationsPerSession } }],
      ['fast-version@example.com', { $inc: { credentialVersion: 1 } }],
    ] as const) {
      const s = await cachedOnB(email, change)
      problem(await refresh(b, s.refreshToken), 401, 'REFRESH_TOKEN_INVALID')
      problem(await get(b, '/v1/users/me', s.accessToken), 401, 'UNAUTHORIZED')
    }

    // Both replicas hold it and the same token comes to both at once: exactly one rotation.
    const raced = await cachedOnB('fast-race@example.com')
    await warm(a, raced.accessToken)
    const answers = await Promise.all([a, b, a, b].map((app) => refresh(app, raced.refreshToken)))
    expect(answers.filter((r) => r.statusCode === 200)).toHaveLength(1)
    expect(await sessions.countDocuments({ _id: raced.id })).toBe(0)

    // Guessed tokens for a live session b has cached: refused without a mint at auth-api.
    const guessed = await cachedOnB('fast-guess@example.com')
    const mints = () =>
      pair.auth.inject({ method: 'GET', url: '/metrics' }).then((res) => {
        const line = res.body
          .split('\n')
          .find((l) => l.startsWith('http_requests_total{method="POST",route="/v1/tokens"'))
        return Number(line?.split(' ').at(-1) ?? 0)
      })
    const mintsBefore = await mints()
    for (let i = 0; i < 5; i++) {
      const forged = `${guessed.id}.${randomBytes(32).toString('base64url')}`
      problem(await refresh(b, forged), 401, 'REFRESH_TOKEN_INVALID')
    }
    expect(await mints()).toBe(mintsBefore)
    expect((await refresh(b, guessed.refreshToken)).statusCode).toBe(200)

    // A replayed token while auth-api is away: still a replay, the session still ends.
    const away = await cachedOnB('fast-away@example.com')
    expect((await refresh(b, away.refreshToken)).statusCode).toBe(200)
    // The same at a replica that issued the token and has not seen its rotation on the other,
    // so it still takes the token for the current one.
    const stale = await signup(a, 'fast-stale@example.com')
    await warm(a, stale.accessToken)
    expect((await refresh(b, stale.refreshToken)).statusCode).toBe(200)
    await pair.auth.close()
    problem(await refresh(b, away.refreshToken), 401, 'REFRESH_TOKEN_REUSED')
    expect(await sessions.countDocuments({ _id: away.id })).toBe(0)
    problem(await refresh(a, stale.refreshToken), 401, 'REFRESH_TOKEN_REUSED')
    expect(await sessions.countDocuments({ _id: stale.refreshToken.split('.')[0] })).toBe(0)
  })
})
