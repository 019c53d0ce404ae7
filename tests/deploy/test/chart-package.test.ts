// What release.yml pushes to oci://ghcr.io/<owner>/charts: the chart packaged by
// .github/scripts/package-chart.sh with the real helm, installable with no image values at all.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type K8sObject, lint, notes, parseManifests, template } from '../src/helm.js'
import { fromRoot } from '../src/repo.js'
import { run } from '../src/run.js'
import { ofKind } from '../src/select.js'
import { toolPath } from '../src/tools.js'

const script = fromRoot('.github/scripts/package-chart.sh')
const packageChart = (...args: string[]) =>
  run('bash', [script, ...args], { env: { ...process.env, HELM: toolPath('helm') } })

describe('the packaged chart of release 1.4.2', () => {
  let out: string
  let chart: string
  let objects: K8sObject[]

  beforeAll(() => {
    out = mkdtempSync(path.join(tmpdir(), 'users-auth-chart-'))
    const packaged = packageChart('1.4.2', 'ghcr.io/acme/users-auth', out)
    expect(packaged.status, packaged.stderr).toBe(0)
    chart = packaged.stdout.trim()
    const rendered = template({ chart })
    expect(rendered.status, rendered.stderr).toBe(0)
    objects = parseManifests(rendered.stdout)
  })
  afterAll(() => {
    rmSync(out, { recursive: true, force: true })
  })

  test('is named and versioned after the release', () => {
    expect(chart).toBe(path.join(out, 'users-auth-1.4.2.tgz'))
    for (const o of objects) {
      expect(o.metadata.labels?.['helm.sh/chart']).toBe('users-auth-1.4.2')
      expect(o.metadata.labels?.['app.kubernetes.io/version']).toBe('1.4.2')
    }
  })

  test("defaults to the release's images, pushed where release.yml pushes them", () => {
    const images = ofKind(objects, 'Deployment').map(
      (d) => d.spec?.template.spec?.containers[0]?.image,
    )
    expect(images).toEqual([
      'ghcr.io/acme/users-auth/users-api:1.4.2',
      'ghcr.io/acme/users-auth/auth-api:1.4.2',
    ])
  })

  test('passes helm lint --strict', () => {
    const result = lint({ chart })
    expect(result.status, result.stdout + result.stderr).toBe(0)
  })

  test('carries the README and the example values, production-values.yaml among them', () => {
    const listing = run('tar', ['-tzf', chart]).stdout.split('\n')
    expect(listing).toEqual(
      expect.arrayContaining([
        'users-auth/README.md',
        'users-auth/values.schema.json',
        'users-auth/ci/production-values.yaml',
      ]),
    )
    const rendered = template({
      chart,
      valueFiles: ['charts/users-auth/ci/production-values.yaml'],
    })
    expect(rendered.status, rendered.stderr).toBe(0)
  })

  test("NOTES.txt makes the signing key with the release's auth-api image", () => {
    const result = notes({ chart })
    expect(result.status, result.stderr).toBe(0)
    expect(result.stdout).toContain(
      'docker run --rm --network none ghcr.io/acme/users-auth/auth-api:1.4.2 node dist/keygen.js',
    )
  })
})

test.each([
  ['a version that is not X.Y.Z', ['v1.4.2', 'ghcr.io/acme/users-auth'], 'is not a version'],
  ['an upper-case image prefix', ['1.4.2', 'ghcr.io/Acme/users-auth'], 'lower-case image prefix'],
  ['a prefix with sed syntax in it', ['1.4.2', 'ghcr.io/acme#x/y'], 'lower-case image prefix'],
])('package-chart.sh refuses %s', (_what, args, message) => {
  const out = mkdtempSync(path.join(tmpdir(), 'users-auth-chart-'))
  try {
    const result = packageChart(...args, out)
    expect(result.status).not.toBe(0)
    expect(result.stderr).toContain(message)
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
})
