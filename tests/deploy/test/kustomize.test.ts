// k8s/dev renders (kubectl kustomize, or the fallback renderer) to valid objects that fit the
// restricted namespace they create, and fit the chart's development values.
import { readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import { render } from '../src/helm.js'
import { kustomize, kustomizeFallback, kustomizeWithKubectl } from '../src/kustomize.js'
import { validateObject } from '../src/models.js'
import { restrictedViolations } from '../src/pod-security.js'
import { fromRoot } from '../src/repo.js'
import { named, ofKind, podSpecs, selects } from '../src/select.js'

const dir = fromRoot('k8s/dev')
const { renderer, objects } = kustomize(dir)
const inventory = (list: typeof objects): string[] =>
  list.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort()

describe(`k8s/dev (rendered by ${renderer})`, () => {
  test('renders the namespace, MongoDB, Redis, Mailpit and their policies', () => {
    expect(inventory(objects)).toEqual(
      [
        'Namespace//users-auth-dev',
        'NetworkPolicy/users-auth-dev/mongodb',
        'NetworkPolicy/users-auth-dev/redis',
        'NetworkPolicy/users-auth-dev/mailpit',
        'Deployment/users-auth-dev/redis',
        'Deployment/users-auth-dev/mailpit',
        'Service/users-auth-dev/mailpit',
        'Service/users-auth-dev/mongodb',
        'Service/users-auth-dev/redis',
        'StatefulSet/users-auth-dev/mongodb',
      ].sort(),
    )
  })

  test('the fallback renderer agrees with kubectl kustomize', () => {
    const fallback = kustomizeFallback(dir)
    expect(inventory(fallback)).toEqual(inventory(objects))
    const viaKubectl = kustomizeWithKubectl(dir)
    // Without kubectl the fallback is the rendering under test, checked by every other test here.
    if (viaKubectl) {
      const key = (o: (typeof objects)[number]): string => `${o.kind}/${o.metadata.name}`
      const sorted = (list: typeof objects): typeof objects =>
        [...list].sort((a, b) => key(a).localeCompare(key(b)))
      expect(sorted(fallback)).toEqual(sorted(viaKubectl))
    }
  })

  test('every object is a valid Kubernetes object with no unknown field', async () => {
    for (const o of objects) {
      expect(await validateObject(o), `${o.kind}/${o.metadata.name}`).toEqual([])
    }
  })

  test('the namespace enforces the restricted Pod Security Standard', () => {
    expect(named(objects, 'Namespace', 'users-auth-dev').metadata?.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
      'pod-security.kubernetes.io/warn': 'restricted',
    })
  })

  test('MongoDB, Redis and Mailpit pods satisfy the restricted profile', () => {
    const pods = podSpecs(objects)
    expect(pods.map((p) => p.where).sort()).toEqual([
      'Deployment/mailpit',
      'Deployment/redis',
      'StatefulSet/mongodb',
    ])
    for (const { where, spec } of pods) {
      expect(restrictedViolations(spec, where)).toEqual([])
    }
    const mongo = named(objects, 'StatefulSet', 'mongodb')
    expect(mongo.spec?.template.spec?.containers[0]?.image).toMatch(/^mongo:7\./)
    expect(mongo.spec?.serviceName).toBe('mongodb')
    expect(named(objects, 'Service', 'mongodb').spec?.clusterIP).toBe('None')
  })

  test('Services and policies select the pods they are meant for', () => {
    for (const name of ['mongodb', 'redis', 'mailpit']) {
      const workload = [...ofKind(objects, 'StatefulSet'), ...ofKind(objects, 'Deployment')].find(
        (w) => w.metadata?.name === name,
      )!
      const labels = workload.spec?.template.metadata?.labels
      expect(selects(named(objects, 'Service', name).spec?.selector, labels)).toBe(true)
      const policy = named(objects, 'NetworkPolicy', name)
      expect(selects(policy.spec?.podSelector?.matchLabels, labels)).toBe(true)
      expect(policy.spec?.ingress?.[0]?.from?.[0]?.podSelector?.matchLabels).toEqual({
        'app.kubernetes.io/component': 'users-api',
      })
    }
  })

  test('the chart with k8s/dev/values.yaml reaches these services and this Secret', () => {
    const chart = render({ valueFiles: ['k8s/dev/values.yaml'], namespace: 'users-auth-dev' })
    const usersPolicy = named(chart, 'NetworkPolicy', 'users-auth-users-api')
    const mongoLabels = named(objects, 'StatefulSet', 'mongodb').spec?.template.metadata?.labels
    const redisLabels = named(objects, 'Deployment', 'redis').spec?.template.metadata?.labels
    const peers = (usersPolicy.spec?.egress ?? []).flatMap((r) => r.to ?? [])
    expect(peers.some((p) => selects(p.podSelector?.matchLabels, mongoLabels))).toBe(true)
    expect(peers.some((p) => selects(p.podSelector?.matchLabels, redisLabels))).toBe(true)
    // The dev policies admit users-api by its component label: the chart's pods carry it.
    const usersPod = named(chart, 'Deployment', 'users-auth-users-api').spec?.template.metadata
      ?.labels
    expect(usersPod?.['app.kubernetes.io/component']).toBe('users-api')

    const script = readFileSync(fromRoot('k8s/dev/create-secret.sh'), 'utf8')
    expect(script).toContain('name=${SECRET_NAME:-users-auth-dev}')
    // The signing key comes from the auth-api image, as the chart's README has operators make it.
    expect(script).toContain('image=${AUTH_API_IMAGE:-users-auth/auth-api:dev}')
    expect(script).toContain('docker run --rm --network none "$image" node dist/keygen.js')
    const secretRefs = new Set(
      ofKind(chart, 'Deployment')
        .flatMap((d) => d.spec?.template.spec?.containers.flatMap((c) => c.env ?? []) ?? [])
        .map((e) => e.valueFrom?.secretKeyRef)
        // Optional keys (SMTP user and password) need not be in the development Secret.
        .filter((r) => r !== undefined && r.optional !== true)
        .map((r) => `${r!.name}:${r!.key}`),
    )
    expect([...secretRefs].sort()).toEqual([
      'users-auth-dev:internal-api-token',
      'users-auth-dev:jwt-private-keys',
      'users-auth-dev:mongodb-uri',
      'users-auth-dev:redis-url',
      'users-auth-dev:smtp-url',
      'users-auth-dev:totp-encryption-keys',
    ])
    for (const ref of secretRefs) {
      expect(script).toContain(`--from-file=${ref.split(':')[1]!}=`)
    }
  })
})
