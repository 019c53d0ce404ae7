// values.schema.json refuses bad values before anything is rendered: through the real helm
// (gojsonschema) and through Ajv in strict mode, which also catches mistakes in the schema
// itself.
import { readFileSync } from 'node:fs'
import { Ajv } from 'ajv'
import { parse } from 'yaml'
import { describe, expect, test } from 'vitest'
import { template } from '../src/helm.js'
import { chartDir } from '../src/repo.js'

type Values = Record<string, unknown>

const schema = JSON.parse(readFileSync(`${chartDir}/values.schema.json`, 'utf8')) as Values
const defaults = parse(readFileSync(`${chartDir}/values.yaml`, 'utf8')) as Values

const isPlain = (v: unknown): v is Values =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** Helm's coalescing: maps merge, anything else replaces, null deletes. */
function merge(base: Values, over: Values): Values {
  const out: Values = { ...base }
  for (const [k, v] of Object.entries(over)) {
    const b = out[k]
    if (v === null) Reflect.deleteProperty(out, k)
    else if (isPlain(v) && isPlain(b)) out[k] = merge(b, v)
    else out[k] = v
  }
  return out
}

const ajv = new Ajv({ strict: true, allowUnionTypes: true, allErrors: true })
const validate = ajv.compile(schema)

const bad: [string, Values, string][] = [
  ['replicaCount 0', { usersApi: { replicaCount: 0 } }, 'replicaCount'],
  ['a replica count as a string', { authApi: { replicaCount: '2' } }, 'replicaCount'],
  ['an unknown top-level key', { replicas: 3 }, 'replicas'],
  ['a typo in a nested key', { usersApi: { image: { tagg: '1.0.0' } } }, 'tagg'],
  ['a Service type for auth-api', { authApi: { service: { type: 'LoadBalancer' } } }, 'type'],
  [
    'a minimum password length under 8',
    { usersApi: { config: { passwordMinLength: 7 } } },
    'passwordMinLength',
  ],
  [
    'a wildcard CORS origin',
    { usersApi: { config: { corsOrigins: 'https://a.example,*' } } },
    'corsOrigins',
  ],
  [
    'argon2 memory below 7 MiB',
    { authApi: { config: { argon2MemoryKib: 1024 } } },
    'argon2MemoryKib',
  ],
  ['a malformed digest', { authApi: { image: { digest: 'sha256:abc' } } }, 'digest'],
  ['an unknown pull policy', { usersApi: { image: { pullPolicy: 'Sometimes' } } }, 'pullPolicy'],
  [
    'a PDB budget that is not a number or percentage',
    { usersApi: { pdb: { minAvailable: 'half' } } },
    'minAvailable',
  ],
  ['an unknown log level', { authApi: { config: { logLevel: 'verbose' } } }, 'logLevel'],
  [
    'a NetworkPolicy peer with a typo',
    { networkPolicy: { mongodb: { to: [{ ipblock: { cidr: '10.0.0.0/8' } }] } } },
    'ipblock',
  ],
  ['a secret key with a slash', { secrets: { keys: { mongodbUri: 'mongo/uri' } } }, 'mongodbUri'],
  ['a removed required block', { usersApi: { livenessProbe: null } }, 'livenessProbe'],
  [
    'an Ingress path without its type',
    { usersApi: { ingress: { paths: [{ path: '/v1' }] } } },
    'pathType',
  ],
  ['an Ingress with no paths', { usersApi: { ingress: { paths: [] } } }, 'paths'],
  ['the single ingress.path of earlier versions', { usersApi: { ingress: { path: '/' } } }, 'path'],
]

describe('values.schema.json', () => {
  test('is draft-07 and strict at the top level', () => {
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#')
    expect(schema.additionalProperties).toBe(false)
  })

  test('accepts the defaults and every scenario under Ajv', () => {
    expect(validate(defaults), ajv.errorsText(validate.errors)).toBe(true)
    for (const file of [
      'ci/production-values.yaml',
      'ci/existing-secret-values.yaml',
      'ci/extras-values.yaml',
      'ci/hpa-off-values.yaml',
      'ci/ingress-values.yaml',
      'ci/networkpolicy-off-values.yaml',
      'ci/single-replica-values.yaml',
      '../../k8s/dev/values.yaml',
    ]) {
      const values = merge(defaults, parse(readFileSync(`${chartDir}/${file}`, 'utf8')) as Values)
      expect(validate(values), `${file}: ${ajv.errorsText(validate.errors)}`).toBe(true)
    }
  })

  test.each(bad)('rejects %s', (_what, values, key) => {
    expect(validate(merge(defaults, values)), 'Ajv accepted it').toBe(false)
    const result = template({ values })
    expect(result.status, 'helm accepted it').not.toBe(0)
    expect(result.stderr).toContain("values don't meet the specifications of the schema")
    expect(result.stderr).toContain(key)
  })

  test('refuses an HPA whose minimum exceeds its maximum', () => {
    const result = template({
      values: { authApi: { autoscaling: { minReplicas: 5, maxReplicas: 3 } } },
    })
    expect(result.status).not.toBe(0)
    expect(result.stderr).toContain('authApi.autoscaling.minReplicas (5) exceeds maxReplicas (3)')
  })
})
