import { describe, expect, it } from 'vitest'
import { breakdown, meanBetween, parseMetrics } from '../src/metrics.js'

const users = (count: number, sum: number) =>
  parseMetrics(`# HELP http_request_duration_seconds latency
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.01",method="POST",route="/v1/auth/login",status_code="200"} ${count}
http_request_duration_seconds_sum{method="POST",route="/v1/auth/login",status_code="200"} ${sum}
http_request_duration_seconds_count{method="POST",route="/v1/auth/login",status_code="200"} ${count}
http_request_duration_seconds_sum{method="POST",route="/v1/auth/login",status_code="401"} 5
http_request_duration_seconds_count{method="POST",route="/v1/auth/login",status_code="401"} 100
`)

const auth = (verify: [number, number], tokens: [number, number], jobs: [number, number]) =>
  parseMetrics(`http_request_duration_seconds_sum{method="POST",route="/v1/passwords/verify",status_code="200"} ${verify[1]}
http_request_duration_seconds_count{method="POST",route="/v1/passwords/verify",status_code="200"} ${verify[0]}
http_request_duration_seconds_sum{method="POST",route="/v1/tokens",status_code="200"} ${tokens[1]}
http_request_duration_seconds_count{method="POST",route="/v1/tokens",status_code="200"} ${tokens[0]}
http_request_duration_seconds_sum{method="GET",route="/healthz",status_code="200"} 99
http_request_duration_seconds_count{method="GET",route="/healthz",status_code="200"} 99
auth_password_job_duration_seconds_sum{operation="verify"} ${jobs[1]}
auth_password_job_duration_seconds_count{operation="verify"} ${jobs[0]}
`)

describe('meanBetween', () => {
  it('takes the mean of the observations made between two scrapes, labels matched', () => {
    const mean = meanBetween(users(10, 0.5), users(30, 1.1), 'http_request_duration_seconds', {
      route: '/v1/auth/login',
      status_code: /^2/,
    })
    expect(mean?.count).toBe(20)
    expect(mean?.meanMs).toBeCloseTo(30)
  })

  it('is null without both scrapes and has no mean without observations', () => {
    expect(meanBetween(null, users(1, 1), 'http_request_duration_seconds', {})).toBeNull()
    const none = meanBetween(users(3, 1), users(3, 1), 'http_request_duration_seconds', {
      status_code: /^2/,
    })
    expect(none).toEqual({ count: 0, meanMs: null })
  })
})

describe('breakdown', () => {
  it('splits a users-api route between users-api, auth-api routes and argon2 jobs', () => {
    const result = breakdown(
      { users: users(0, 0), auth: auth([0, 0], [0, 0], [0, 0]) },
      // 100 logins of 27 ms; 100 verifies of 21 ms (19 ms argon2) and 100 mints of 1 ms.
      { users: users(100, 2.7), auth: auth([100, 2.1], [100, 0.1], [100, 1.9]) },
      '/v1/auth/login',
      27.5,
    )
    expect(result?.requests).toBe(100)
    expect(result?.clientMs).toBe(27.5)
    expect(result?.usersApiMs).toBeCloseTo(27)
    expect(result?.authApiMs).toBeCloseTo(22)
    expect(result?.argon2Ms).toBeCloseTo(19)
  })

  it('is null for a route that saw no successful request', () => {
    const scrapes = { users: users(5, 1), auth: null }
    expect(breakdown(scrapes, scrapes, '/v1/auth/login', null)).toBeNull()
  })
})
