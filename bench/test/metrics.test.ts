import { describe, expect, it } from 'vitest'
import { breakdown, parseMetrics } from '../src/metrics.js'

const login = (status: number, count: number, sum: number): string =>
  `http_request_duration_seconds_sum{method="POST",route="/v1/auth/login",status_code="${status}"} ${sum}
http_request_duration_seconds_count{method="POST",route="/v1/auth/login",status_code="${status}"} ${count}`
const users = (count: number, sum: number) =>
  parseMetrics(`# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.01",method="POST",route="/v1/auth/login",status_code="200"} ${count}
${login(200, count, sum)}
${login(401, 100, 5)}
`)
const route = (path: string, [count, sum]: number[]): string =>
  `http_request_duration_seconds_sum{method="POST",route="${path}",status_code="200"} ${sum}
http_request_duration_seconds_count{method="POST",route="${path}",status_code="200"} ${count}`
const auth = (verify: number[], tokens: number[], [jobs, jobSeconds]: number[]) =>
  parseMetrics(`${route('/v1/passwords/verify', verify)}
${route('/v1/tokens', tokens)}
${route('/healthz', [99, 99])}
auth_password_job_duration_seconds_sum{operation="verify"} ${jobSeconds}
auth_password_job_duration_seconds_count{operation="verify"} ${jobs}
`)

describe('breakdown', () => {
  it('splits a users-api route between users-api, auth-api routes and argon2 jobs', () => {
    // 100 logins of 27 ms; 100 verifies of 21 ms (19 ms argon2) and 100 mints of 1 ms; the
    // 401s, the buckets and auth-api's /healthz are left out.
    const result = breakdown(
      { users: users(10, 0.5), auth: auth([0, 0], [0, 0], [0, 0]) },
      { users: users(110, 3.2), auth: auth([100, 2.1], [100, 0.1], [100, 1.9]) },
      '/v1/auth/login',
      27.5,
    )
    expect(result?.requests).toBe(100)
    expect(result?.clientMs).toBe(27.5)
    expect(result?.usersApiMs).toBeCloseTo(27)
    expect(result?.authApiMs).toBeCloseTo(22)
    expect(result?.argon2Ms).toBeCloseTo(19)
  })

  it('is null for a route that saw no successful request; parts are null without a scrape', () => {
    expect(
      breakdown(
        { users: users(5, 1), auth: null },
        { users: users(5, 1), auth: null },
        '/v1/auth/login',
        null,
      ),
    ).toBeNull()
    const split = breakdown(
      { users: users(0, 0), auth: null },
      { users: users(4, 1), auth: null },
      '/v1/auth/login',
      1,
    )
    expect(split).toMatchObject({ requests: 4, usersApiMs: 250, authApiMs: null, argon2Ms: null })
  })
})
