// The chart checked by the real helm for every values scenario (the CI lint matrix in
// charts/users-auth/ci, the development values and the defaults): `helm lint --strict`, then
// `helm template` (which enforces values.schema.json), each object validated against the
// Kubernetes schemas with unknown fields rejected, and the security properties asserted.
import { readdirSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import { type K8sObject, lint, notes, render, renderer } from '../src/helm.js'
import { run } from '../src/run.js'
import { validateObject } from '../src/models.js'
import { restrictedViolations } from '../src/pod-security.js'
import { chartDir } from '../src/repo.js'
import { named, ofKind, podSpecs, selects } from '../src/select.js'

const ciValues = readdirSync(`${chartDir}/ci`)
  .filter((f) => f.endsWith('-values.yaml'))
  .sort()
const scenarios: [string, string[]][] = [
  ['defaults', []],
  ['k8s/dev/values.yaml', ['k8s/dev/values.yaml']],
  ...ciValues.map((f): [string, string[]] => [f, [`charts/users-auth/ci/${f}`]]),
]

const SECRET_ENV = [
  'MONGODB_URI',
  'INTERNAL_API_TOKEN',
  'JWT_PRIVATE_KEYS',
  'TOTP_ENCRYPTION_KEYS',
  'REDIS_URL',
  'SMTP_URL',
  'SMTP_USER',
  'SMTP_PASSWORD',
]
const COMPONENTS = ['users-api', 'auth-api'] as const

test('the scenario list covers the CI lint matrix', () => {
  expect(ciValues).toEqual(
    expect.arrayContaining([
      'existing-secret-values.yaml',
      'hpa-off-values.yaml',
      'ingress-values.yaml',
      'networkpolicy-off-values.yaml',
      'production-values.yaml',
      'single-replica-values.yaml',
    ]),
  )
})

test('the renderer is the helm the workflows pin', () => {
  const version = run(renderer().bin, ['version', '--template', '{{.Version}}'])
  expect(version.stdout).toBe('v3.18.4')
})

describe.each(scenarios)('chart rendered with %s', (_name, valueFiles) => {
  const objects = render({ valueFiles })
  const releaseName = 'users-auth'

  test('passes helm lint --strict', () => {
    const result = lint({ valueFiles })
    expect(result.stdout + result.stderr, result.stdout).toContain(
      '1 chart(s) linted, 0 chart(s) failed',
    )
    expect(result.status).toBe(0)
  })

  test('every object is a valid Kubernetes object with no unknown field', async () => {
    expect(objects.length).toBeGreaterThan(5)
    for (const o of objects) {
      expect(await validateObject(o), `${o.kind}/${o.metadata.name}`).toEqual([])
    }
  })

  test('every object carries the standard labels and sits in the release namespace', () => {
    for (const o of objects) {
      const labels = o.metadata.labels ?? {}
      expect(labels, `${o.kind}/${o.metadata.name}`).toMatchObject({
        'app.kubernetes.io/name': 'users-auth',
        'app.kubernetes.io/instance': releaseName,
        'app.kubernetes.io/managed-by': 'Helm',
      })
      expect(labels['helm.sh/chart']).toMatch(/^users-auth-\d+\.\d+\.\d+/)
      expect(o.metadata.namespace).toBe('users-auth')
    }
  })

  test('every pod meets the restricted Pod Security Standard with a read-only root filesystem', () => {
    const pods = podSpecs(objects)
    expect(pods.length).toBeGreaterThanOrEqual(2)
    for (const { where, spec } of pods) {
      expect(restrictedViolations(spec, where)).toEqual([])
      expect(spec.automountServiceAccountToken, where).toBe(false)
      expect(spec.enableServiceLinks, where).toBe(false)
    }
  })

  test('ServiceAccounts do not mount API tokens', () => {
    for (const sa of ofKind(objects, 'ServiceAccount')) {
      expect(sa.automountServiceAccountToken).toBe(false)
    }
    for (const d of ofKind(objects, 'Deployment')) {
      const name = d.spec?.template.spec?.serviceAccountName
      expect(ofKind(objects, 'ServiceAccount').map((s) => s.metadata?.name)).toContain(name)
    }
  })

  test.each(COMPONENTS)('%s: probes, graceful shutdown, writable /tmp, resources', (component) => {
    const d = named(objects, 'Deployment', `${releaseName}-${component}`)
    const pod = d.spec!.template
    const spec = pod.spec!
    const c = spec.containers.find((x) => x.name === component)!
    expect(c.livenessProbe?.httpGet?.path).toBe('/healthz')
    expect(c.readinessProbe?.httpGet?.path).toBe('/readyz')
    if (c.startupProbe) expect(c.startupProbe.httpGet?.path).toBe('/healthz')
    expect(c.lifecycle?.preStop?.exec?.command?.[0]).toBe('sleep')
    expect(spec.terminationGracePeriodSeconds).toBeGreaterThan(
      Number(c.lifecycle?.preStop?.exec?.command?.[1] ?? 0),
    )
    expect(c.volumeMounts?.find((m) => m.mountPath === '/tmp')?.name).toBe('tmp')
    expect(spec.volumes?.find((v) => v.name === 'tmp')?.emptyDir).toBeDefined()
    expect(c.resources?.requests?.cpu).toBeDefined()
    expect(c.resources?.requests?.memory).toBeDefined()
    expect(c.resources?.limits?.memory).toBeDefined()
    expect(pod.metadata?.annotations?.['checksum/config']).toMatch(/^[0-9a-f]{64}$/)
    expect(spec.topologySpreadConstraints?.length).toBeGreaterThan(0)
    expect(c.image).not.toMatch(/:latest$/)
    expect(c.ports).toEqual([
      { name: 'http', containerPort: component === 'users-api' ? 3000 : 4000, protocol: 'TCP' },
    ])
  })

  test('credentials reach the pods only by reference to a Secret', () => {
    for (const { where, spec } of podSpecs(objects)) {
      for (const c of spec.containers) {
        for (const e of c.env ?? []) {
          if (SECRET_ENV.includes(e.name)) {
            expect(e.value, `${where} ${e.name}`).toBeUndefined()
            expect(e.valueFrom?.secretKeyRef?.name, `${where} ${e.name}`).toBeTruthy()
          }
        }
      }
    }
    for (const cm of ofKind(objects, 'ConfigMap')) {
      for (const key of SECRET_ENV) expect(cm.data?.[key], key).toBeUndefined()
    }
    expect(ofKind(objects, 'Secret')).toEqual([])
  })

  test('no secret literal appears anywhere in the rendered output', () => {
    const text = JSON.stringify(objects)
    expect(text).not.toMatch(/-----BEGIN/)
    expect(text).not.toMatch(/"d"\s*:\s*"/) // a private JWK parameter
    expect(text).not.toMatch(/mongodb(\+srv)?:\/\//)
    expect(text).not.toMatch(/redis:\/\/[^"]*@/)
  })

  test('Services select their Deployment and auth-api stays ClusterIP', () => {
    for (const component of COMPONENTS) {
      const svc = named(objects, 'Service', `${releaseName}-${component}`)
      const d = named(objects, 'Deployment', `${releaseName}-${component}`)
      expect(selects(svc.spec?.selector, d.spec?.template.metadata?.labels)).toBe(true)
      expect(selects(d.spec?.selector.matchLabels, d.spec?.template.metadata?.labels)).toBe(true)
      expect(svc.spec?.ports?.[0]?.targetPort).toBe('http')
    }
    const auth = named(objects, 'Service', `${releaseName}-auth-api`)
    expect(auth.spec?.type).toBe('ClusterIP')
    expect(auth.spec?.ports?.[0]?.nodePort).toBeUndefined()
    for (const ing of ofKind(objects, 'Ingress')) {
      for (const rule of ing.spec?.rules ?? []) {
        for (const p of rule.http?.paths ?? []) {
          expect(p.backend.service?.name).toBe(`${releaseName}-users-api`)
        }
      }
    }
  })

  test('HPAs (autoscaling/v2) own the replica count; PDBs are policy/v1 and select pods', () => {
    for (const component of COMPONENTS) {
      const d = named(objects, 'Deployment', `${releaseName}-${component}`)
      const hpa = ofKind(objects, 'HorizontalPodAutoscaler').find(
        (h) => h.spec.scaleTargetRef.name === d.metadata?.name,
      )
      if (hpa) {
        expect(d.spec?.replicas).toBeUndefined()
        expect(hpa.apiVersion).toBe('autoscaling/v2')
        expect(hpa.spec.metrics?.some((m) => m.resource?.name === 'cpu')).toBe(true)
        expect(hpa.spec.minReplicas).toBeLessThanOrEqual(hpa.spec.maxReplicas)
      } else {
        expect(d.spec?.replicas).toBeGreaterThanOrEqual(1)
      }
    }
    for (const pdb of ofKind(objects, 'PodDisruptionBudget')) {
      const targets = ofKind(objects, 'Deployment').filter((d) =>
        selects(pdb.spec?.selector?.matchLabels, d.spec?.template.metadata?.labels),
      )
      expect(targets).toHaveLength(1)
    }
  })

  test('the helm test pod checks users-api /readyz and keeps its logs', () => {
    const pod = named(objects, 'Pod', `${releaseName}-test-readyz`)
    expect(pod.metadata?.annotations?.['helm.sh/hook']).toBe('test')
    expect(pod.metadata?.annotations?.['helm.sh/hook-delete-policy']).toBe('before-hook-creation')
    expect(pod.spec?.restartPolicy).toBe('Never')
    const env = pod.spec?.containers[0]?.env ?? []
    expect(env.find((e) => e.name === 'READYZ_URL')?.value).toBe(
      `http://${releaseName}-users-api:3000/readyz`,
    )
  })

  test('NetworkPolicies: default deny, auth-api admits only users-api, egress limited', () => {
    const policies = ofKind(objects, 'NetworkPolicy')
    if (valueFiles.some((f) => f.includes('networkpolicy-off'))) {
      expect(policies).toEqual([])
      return
    }
    const deny = named(objects, 'NetworkPolicy', `${releaseName}-default-deny`)
    expect(deny.spec?.podSelector?.matchLabels).toEqual({
      'app.kubernetes.io/name': 'users-auth',
      'app.kubernetes.io/instance': releaseName,
    })
    expect(deny.spec?.policyTypes).toEqual(['Ingress', 'Egress'])
    expect(deny.spec?.ingress).toBeUndefined()
    expect(deny.spec?.egress).toBeUndefined()

    const auth = named(objects, 'NetworkPolicy', `${releaseName}-auth-api`)
    expect(auth.spec?.policyTypes).toEqual(['Ingress', 'Egress'])
    const [fromUsers, ...others] = auth.spec?.ingress ?? []
    expect(fromUsers).toEqual({
      from: [
        {
          podSelector: {
            matchLabels: {
              'app.kubernetes.io/name': 'users-auth',
              'app.kubernetes.io/instance': releaseName,
              'app.kubernetes.io/component': 'users-api',
            },
          },
        },
      ],
      ports: [{ port: 4000, protocol: 'TCP' }],
    })
    // Any further rule is a scrape rule with explicit peers on the same port, never open.
    for (const rule of others) {
      expect(rule.from?.length).toBeGreaterThan(0)
      expect(rule.ports).toEqual([{ port: 4000, protocol: 'TCP' }])
    }
    expect(auth.spec?.egress).toEqual([])

    const users = named(objects, 'NetworkPolicy', `${releaseName}-users-api`)
    const egress = users.spec?.egress ?? []
    const ports = egress.flatMap((r) =>
      (r.ports ?? []).map((p) => `${String(p.port)}/${p.protocol ?? 'TCP'}`),
    )
    expect(ports).toEqual(expect.arrayContaining(['53/UDP', '53/TCP', '4000/TCP', '27017/TCP']))
    for (const rule of egress) {
      // No rule may open every port to every destination.
      expect(rule.ports?.length ?? 0, JSON.stringify(rule)).toBeGreaterThan(0)
    }
    const toAuth = egress.find((r) => r.ports?.some((p) => p.port === 4000))
    expect(toAuth?.to?.[0]?.podSelector?.matchLabels?.['app.kubernetes.io/component']).toBe(
      'auth-api',
    )
  })
})

describe('scenario specifics', () => {
  test('defaults: auth-api scales on CPU, credentials from <fullname>-secrets', () => {
    const objects = render()
    const hpa = named(objects, 'HorizontalPodAutoscaler', 'users-auth-auth-api')
    expect(hpa.spec.metrics).toEqual([
      {
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
      },
    ])
    const auth = named(objects, 'Deployment', 'users-auth-auth-api').spec!.template.spec!
    const env = auth.containers[0]!.env!
    expect(env.find((e) => e.name === 'JWT_PRIVATE_KEYS')?.valueFrom?.secretKeyRef).toEqual({
      name: 'users-auth-secrets',
      key: 'jwt-private-keys',
    })
    expect(env.find((e) => e.name === 'TOTP_ENCRYPTION_KEYS')?.valueFrom?.secretKeyRef).toEqual({
      name: 'users-auth-secrets',
      key: 'totp-encryption-keys',
    })
    // One hashing thread per CPU of the limit, not per CPU of the node.
    expect(env.find((e) => e.name === 'HASH_THREADS')?.valueFrom?.resourceFieldRef).toMatchObject({
      resource: 'limits.cpu',
      divisor: '1',
    })
    const users = named(objects, 'ConfigMap', 'users-auth-users-api').data!
    expect(users).toMatchObject({
      NODE_ENV: 'production',
      PORT: '3000',
      AUTH_API_URL: 'http://users-auth-auth-api.users-auth.svc:4000',
      PASSWORD_MIN_LENGTH: '15',
    })
    expect(users.REDIS_URL).toBeUndefined()
    expect(ofKind(objects, 'Ingress')).toEqual([])
  })

  test('existing secret: every reference uses its name and key names', () => {
    const objects = render({ valueFiles: ['charts/users-auth/ci/existing-secret-values.yaml'] })
    const refs = podSpecs(objects)
      .filter((p) => p.where.startsWith('Deployment'))
      .flatMap((p) => p.spec.containers.flatMap((c) => c.env ?? []))
      .filter((e) => e.valueFrom?.secretKeyRef)
      .map((e) => `${e.name}=${e.valueFrom!.secretKeyRef!.name}/${e.valueFrom!.secretKeyRef!.key}`)
    expect(refs.sort()).toEqual(
      [
        'INTERNAL_API_TOKEN=platform-users-auth/ACCEPTED_INTERNAL_API_TOKENS',
        'INTERNAL_API_TOKEN=platform-users-auth/INTERNAL_API_TOKEN',
        'JWT_PRIVATE_KEYS=platform-users-auth/JWT_PRIVATE_KEYS',
        'MONGODB_URI=platform-users-auth/MONGODB_URI',
        'REDIS_URL=platform-users-auth/REDIS_URL',
        'SMTP_URL=platform-mail/SMTP_URL',
        'SMTP_USER=platform-mail/SMTP_USER',
        'SMTP_PASSWORD=platform-mail/SMTP_PASSWORD',
        'TOTP_ENCRYPTION_KEYS=platform-users-auth/TOTP_ENCRYPTION_KEYS',
      ].sort(),
    )
  })

  test('mail: SMTP settings from the Secret (user and password optional), the rest as values', () => {
    const objects = render({
      values: { mail: { appUrl: 'https://app.example.com', requireEmailVerification: true } },
    })
    const users = ofKind(objects, 'Deployment').find((d) =>
      d.metadata?.name?.endsWith('users-api'),
    )!
    const env = users.spec?.template.spec?.containers[0]?.env ?? []
    const ref = (name: string) => env.find((e) => e.name === name)?.valueFrom?.secretKeyRef
    expect(ref('SMTP_URL')).toEqual({ name: 'users-auth-secrets', key: 'smtp-url' })
    expect(ref('SMTP_USER')).toEqual({
      name: 'users-auth-secrets',
      key: 'smtp-user',
      optional: true,
    })
    expect(ref('SMTP_PASSWORD')).toEqual({
      name: 'users-auth-secrets',
      key: 'smtp-password',
      optional: true,
    })
    const config = ofKind(objects, 'ConfigMap').find((c) => c.metadata?.name?.endsWith('users-api'))
    expect(config?.data).toMatchObject({
      APP_URL: 'https://app.example.com',
      MAIL_FROM: 'users-auth <no-reply@example.com>',
      REQUIRE_EMAIL_VERIFICATION: 'true',
    })
    // users-api may reach an SMTP server (submission ports); auth-api still may not.
    const policy = ofKind(objects, 'NetworkPolicy').find((p) =>
      p.metadata?.name?.endsWith('users-api'),
    )
    const ports = (policy?.spec?.egress ?? []).flatMap((rule) =>
      (rule.ports ?? []).map((p) => p.port),
    )
    expect(ports).toEqual(expect.arrayContaining([465, 587]))
  })

  test("auth-api's hashing queue: limit, timeout and wait budget as values (0 and null honoured)", () => {
    const authConfig = (objects: ReturnType<typeof render>) =>
      named(objects, 'ConfigMap', 'users-auth-auth-api').data!
    const defaults = authConfig(render())
    expect(defaults.HASH_QUEUE_TIMEOUT_MS).toBeUndefined()
    expect(defaults.HASH_QUEUE_BUDGET_MS).toBeUndefined()
    const set = authConfig(
      render({
        values: { authApi: { config: { hashQueueTimeoutMs: 800, hashQueueBudgetMs: 0 } } },
      }),
    )
    expect(set).toMatchObject({ HASH_QUEUE_TIMEOUT_MS: '800', HASH_QUEUE_BUDGET_MS: '0' })
    // null is how a values file unsets a key: nothing rendered, never "<nil>".
    const unset = authConfig(
      render({
        values: { authApi: { config: { hashQueueLimit: null, hashQueueBudgetMs: null } } },
      }),
    )
    expect(unset.HASH_QUEUE_LIMIT).toBeUndefined()
    expect(unset.HASH_QUEUE_BUDGET_MS).toBeUndefined()
    expect(
      authConfig(render({ values: { authApi: { config: { hashQueueLimit: 0 } } } })),
    ).toMatchObject({ HASH_QUEUE_LIMIT: '0' })
  })

  test('production: digests pinned, ingress-only users-api, Redis egress narrowed', () => {
    const objects = render({ valueFiles: ['charts/users-auth/ci/production-values.yaml'] })
    for (const d of ofKind(objects, 'Deployment')) {
      expect(d.spec?.template.spec?.containers[0]?.image).toMatch(/@sha256:[0-9a-f]{64}$/)
    }
    const users = named(objects, 'NetworkPolicy', 'users-auth-users-api')
    const fromPeers = users.spec?.ingress?.[0]?.from ?? []
    expect(fromPeers[0]?.namespaceSelector?.matchLabels).toEqual({
      'kubernetes.io/metadata.name': 'ingress-nginx',
    })
    expect(users.spec?.egress?.find((r) => r.ports?.[0]?.port === 6379)?.to).toEqual([
      { ipBlock: { cidr: '10.30.0.0/24' } },
    ])
    const ing = named(objects, 'Ingress', 'users-auth-users-api')
    expect(ing.spec?.tls).toEqual([
      { hosts: ['api.example.com'], secretName: 'api.example.com-tls' },
    ])
  })

  test('hpa off: fixed replicas, percentage PDB, no PDB where disabled', () => {
    const objects = render({ valueFiles: ['charts/users-auth/ci/hpa-off-values.yaml'] })
    expect(ofKind(objects, 'HorizontalPodAutoscaler')).toEqual([])
    expect(named(objects, 'Deployment', 'users-auth-users-api').spec?.replicas).toBe(3)
    expect(named(objects, 'Deployment', 'users-auth-auth-api').spec?.replicas).toBe(4)
    const pdbs = ofKind(objects, 'PodDisruptionBudget')
    expect(pdbs.map((p) => [p.metadata?.name, p.spec?.minAvailable])).toEqual([
      ['users-auth-users-api', '50%'],
    ])
  })

  test('a config change rolls only the pods whose config changed', () => {
    const checksum = (objects: K8sObject[], component: string): string | undefined =>
      named(objects, 'Deployment', `users-auth-${component}`).spec?.template.metadata
        ?.annotations?.['checksum/config']
    const before = render()
    const after = render({ values: { usersApi: { config: { logLevel: 'debug' } } } })
    expect(checksum(after, 'users-api')).not.toBe(checksum(before, 'users-api'))
    expect(checksum(after, 'auth-api')).toBe(checksum(before, 'auth-api'))
  })

  test('a release named after the chart is not repeated in resource names', () => {
    const objects = render({ release: 'prod-users-auth' })
    expect(ofKind(objects, 'Deployment').map((d) => d.metadata?.name)).toEqual([
      'prod-users-auth-users-api',
      'prod-users-auth-auth-api',
    ])
    const other = render({ release: 'blue' })
    expect(ofKind(other, 'Service').map((s) => s.metadata?.name)).toEqual([
      'blue-users-auth-users-api',
      'blue-users-auth-auth-api',
    ])
  })

  test("NOTES.txt tells how to create the Secret, with the image's keygen and the expected keys", () => {
    const out = notes({ values: { authApi: { image: { tag: '1.2.3' } } } })
    expect(out.status, out.stderr).toBe(0)
    expect(out.stdout).toContain('create secret generic users-auth-secrets')
    expect(out.stdout).toContain(
      '--from-literal=jwt-private-keys="$(docker run --rm --network none ghcr.io/example/users-auth/auth-api:1.2.3 node dist/keygen.js)"',
    )
    expect(out.stdout).toContain(
      '--from-literal=totp-encryption-keys="$(docker run --rm --network none ghcr.io/example/users-auth/auth-api:1.2.3 node dist/keygen.js --totp)"',
    )
    expect(out.stdout).toContain('--from-literal=redis-url=')
    expect(out.stdout).toContain('helm test users-auth')
  })

  test('NOTES.txt without Redis (one replica) asks for no Redis URL', () => {
    const out = notes({ valueFiles: ['charts/users-auth/ci/single-replica-values.yaml'] })
    expect(out.status, out.stderr).toBe(0)
    expect(out.stdout).not.toContain('redis-url')
  })
})
