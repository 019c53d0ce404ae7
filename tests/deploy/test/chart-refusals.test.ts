// The chart refuses values that would break the throttling promise (every budget multiplied by
// the replica count without Redis; one shared IP budget behind an Ingress that is not trusted)
// and keeps the operational endpoints off the Ingress. Each refusal is a `fail` in a template,
// so `helm install`, `helm upgrade` and `helm template` stop with the message.
import { describe, expect, test } from 'vitest'
import { lint, render, template } from '../src/helm.js'
import { named, ofKind } from '../src/select.js'

const noRedis = { redis: { enabled: false } }
const behindIngress = {
  usersApi: {
    config: { trustedProxies: '10.244.0.0/16' },
    ingress: { enabled: true, hostname: 'api.example.test' },
  },
}

function refused(values: Record<string, unknown>): string {
  const result = template({ values })
  expect(result.status, 'helm template accepted it').not.toBe(0)
  expect(result.stdout).toBe('')
  return result.stderr
}

describe('users-api replicas share their counters in Redis', () => {
  test('the defaults render with Redis on and an HPA of 2-10 replicas', () => {
    const objects = render()
    const hpa = named(objects, 'HorizontalPodAutoscaler', 'users-auth-users-api')
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([2, 10])
    const env = named(objects, 'Deployment', 'users-auth-users-api').spec!.template.spec!
      .containers[0]!.env!
    expect(env.find((e) => e.name === 'REDIS_URL')?.valueFrom?.secretKeyRef).toEqual({
      name: 'users-auth-secrets',
      key: 'redis-url',
    })
  })

  test('autoscaling without Redis is refused, naming the fix', () => {
    const stderr = refused(noRedis)
    expect(stderr).toContain('usersApi.autoscaling may run up to 10 users-api replicas')
    expect(stderr).toContain('redis.enabled=true')
    expect(stderr).toContain('usersApi.autoscaling.enabled=false, usersApi.replicaCount=1')
  })

  test('more than one fixed replica without Redis is refused', () => {
    const stderr = refused({
      ...noRedis,
      usersApi: { autoscaling: { enabled: false }, replicaCount: 2 },
    })
    expect(stderr).toContain('usersApi.replicaCount is 2 without Redis')
    expect(stderr).toContain("REDIS_URL from the Secret's redis-url key")
  })

  test('helm lint shows the refusal (lint mode logs `fail` instead of stopping)', () => {
    const result = lint({ values: noRedis })
    expect(result.stderr).toContain('Fail: usersApi.autoscaling may run up to 10')
  })

  test('one replica without Redis renders, with no REDIS_URL', () => {
    const objects = render({
      values: { ...noRedis, usersApi: { autoscaling: { enabled: false }, replicaCount: 1 } },
    })
    const users = named(objects, 'Deployment', 'users-auth-users-api')
    expect(users.spec?.replicas).toBe(1)
    const env = users.spec!.template.spec!.containers[0]!.env!
    expect(env.map((e) => e.name)).not.toContain('REDIS_URL')
  })

  test('auth-api keeps no counters: its replica count does not need Redis', () => {
    const objects = render({
      values: {
        ...noRedis,
        usersApi: { autoscaling: { enabled: false }, replicaCount: 1 },
        authApi: { autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 6 } },
      },
    })
    expect(named(objects, 'HorizontalPodAutoscaler', 'users-auth-auth-api').spec.maxReplicas).toBe(
      6,
    )
  })
})

describe('the Ingress', () => {
  test('without trusted proxies is refused, naming the fix', () => {
    const stderr = refused({ usersApi: { ingress: { enabled: true } } })
    expect(stderr).toContain('usersApi.config.trustedProxies is empty')
    expect(stderr).toContain('all clients would share one rate-limit budget')
  })

  test('routes /v1 and /.well-known only, on every host', () => {
    const objects = render({
      values: {
        usersApi: {
          ...behindIngress.usersApi,
          ingress: {
            ...behindIngress.usersApi.ingress,
            extraHosts: [{ name: 'www.example.test' }],
          },
        },
      },
    })
    const [ingress] = ofKind(objects, 'Ingress')
    const routes = (ingress?.spec?.rules ?? []).map((r) => [
      r.host,
      (r.http?.paths ?? []).map((p) => `${p.pathType} ${p.path ?? ''}`),
    ])
    expect(routes).toEqual([
      ['api.example.test', ['Prefix /v1', 'Prefix /.well-known']],
      ['www.example.test', ['Prefix /v1', 'Prefix /.well-known']],
    ])
  })

  test.each([
    ['/', 'Prefix', '/metrics'],
    ['/metrics', 'Exact', '/metrics'],
    ['/readyz/', 'Prefix', '/readyz'],
    ['/do', 'ImplementationSpecific', '/docs'],
  ])('a path %s (%s) is refused: it would publish %s', (path, pathType, endpoint) => {
    const stderr = refused({
      usersApi: {
        ...behindIngress.usersApi,
        ingress: { enabled: true, paths: [{ path, pathType }] },
      },
    })
    expect(stderr).toContain(
      `path ${path} (${pathType}) on host users-auth.local would publish ${endpoint}`,
    )
  })

  test('an extra host with its own paths is checked as well', () => {
    const stderr = refused({
      usersApi: {
        ...behindIngress.usersApi,
        ingress: {
          ...behindIngress.usersApi.ingress,
          extraHosts: [{ name: 'ops.example.test', paths: [{ path: '/', pathType: 'Prefix' }] }],
        },
      },
    })
    expect(stderr).toContain('on host ops.example.test would publish /metrics')
  })

  test('a path beside the operational ones is accepted', () => {
    const objects = render({
      values: {
        usersApi: {
          ...behindIngress.usersApi,
          ingress: {
            ...behindIngress.usersApi.ingress,
            paths: [
              { path: '/v1', pathType: 'Prefix' },
              { path: '/metricsfoo', pathType: 'Prefix' },
            ],
          },
        },
      },
    })
    expect(ofKind(objects, 'Ingress')).toHaveLength(1)
  })
})
