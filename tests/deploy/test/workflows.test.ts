// Every workflow passes actionlint and the project's rules: actions pinned by commit SHA with
// the version in a comment, least-privilege permissions, no event data interpolated into
// shell, and the pipeline steps the deployment relies on.
import { readFileSync, readdirSync } from 'node:fs'
import { parse } from 'yaml'
import { describe, expect, test } from 'vitest'
import { lintWorkflow } from '../src/actionlint.js'
import { fromRoot } from '../src/repo.js'

interface Step {
  uses?: string
  run?: string
  with?: Record<string, unknown>
  env?: Record<string, string>
  if?: string
}
interface Job {
  permissions?: Record<string, string> | string
  steps?: Step[]
  services?: Record<string, { image: string }>
  env?: Record<string, string>
  environment?: string
  needs?: string[]
  strategy?: { matrix?: Record<string, unknown> }
}
interface Workflow {
  on: Record<string, unknown>
  permissions?: Record<string, string> | string
  jobs: Record<string, Job>
}

const dir = fromRoot('.github/workflows')
const files = readdirSync(dir).filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'))
const source = (f: string): string => readFileSync(`${dir}/${f}`, 'utf8')
const workflow = (f: string): Workflow => parse(source(f)) as Workflow
const steps = (w: Workflow): Step[] => Object.values(w.jobs).flatMap((j) => j.steps ?? [])
const runs = (j: Job): string => (j.steps ?? []).map((s) => s.run ?? '').join('\n')
const usesOf = (j: Job): string[] =>
  (j.steps ?? []).flatMap((s) => (s.uses ? [s.uses.split('@')[0]!] : []))

test('the pipeline has ci, release and deploy workflows', () => {
  expect(files.sort()).toEqual(['ci.yml', 'deploy.yml', 'release.yml'])
})

describe.each(files)('.github/workflows/%s', (file) => {
  test('passes actionlint', async () => {
    expect(await lintWorkflow(source(file), `.github/workflows/${file}`)).toEqual([])
  })

  test('pins every action to a full commit SHA with its version in a comment', () => {
    const lines = source(file)
      .split('\n')
      .filter((l) => /^\s*(-\s+)?uses:/.test(l))
    expect(lines.length).toBeGreaterThan(0)
    for (const line of lines) {
      expect(line).toMatch(/uses: [\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/)
    }
  })

  test('grants read-only contents at the top and declares permissions on every job', () => {
    const w = workflow(file)
    expect(w.permissions).toEqual({ contents: 'read' })
    for (const [name, job] of Object.entries(w.jobs)) {
      expect(job.permissions, name).toBeDefined()
      expect(typeof job.permissions, name).toBe('object')
      for (const [scope, level] of Object.entries(job.permissions as Record<string, string>)) {
        // Write access only where a job needs it.
        if (level === 'write') expect(['packages', 'id-token']).toContain(scope)
      }
    }
  })

  test('interpolates no event data or inputs into shell commands', () => {
    for (const step of steps(workflow(file))) {
      if (!step.run) continue
      expect(step.run).not.toMatch(/\$\{\{\s*(github\.event|inputs|github\.head_ref)/)
    }
  })

  test('checks out without persisting the token', () => {
    for (const step of steps(workflow(file))) {
      if (step.uses?.startsWith('actions/checkout@')) {
        expect(step.with?.['persist-credentials']).toBe(false)
      }
    }
  })
})

describe('ci.yml', () => {
  const ci = workflow('ci.yml')

  test('installs pnpm before setup-node, which caches the pnpm store', () => {
    for (const job of Object.values(ci.jobs)) {
      const order = usesOf(job)
      const setupNode = order.indexOf('actions/setup-node')
      if (setupNode === -1) continue
      expect(order.indexOf('pnpm/action-setup')).toBeGreaterThan(-1)
      expect(order.indexOf('pnpm/action-setup')).toBeLessThan(setupNode)
      const step = job.steps!.find((s) => s.uses?.startsWith('actions/setup-node@'))!
      expect(step.with?.cache).toBe('pnpm')
    }
  })

  test('lints, typechecks and tests against a real MongoDB 7', () => {
    const job = ci.jobs.test!
    expect(job.services?.mongodb?.image).toMatch(/^mongo:7/)
    expect(job.env?.MONGODB_URI).toMatch(/^mongodb:\/\/127\.0\.0\.1:27017\//)
    const commands = (job.steps ?? []).map((s) => s.run).filter(Boolean)
    expect(commands).toEqual([
      'pnpm install --frozen-lockfile',
      'pnpm lint',
      'pnpm typecheck',
      'bash tests/deploy/install-tools.sh',
      'pnpm test',
    ])
  })

  test('lints the chart strictly for every values scenario and validates with kubeconform', () => {
    const script = runs(ci.jobs.chart!)
    expect(script).toContain(
      'scenarios=(defaults charts/users-auth/ci/*-values.yaml k8s/dev/values.yaml)',
    )
    expect(script).toContain('helm lint --strict charts/users-auth')
    expect(script).toMatch(/helm template .*\n?.*\| kubeconform -strict -summary/)
    expect(script).toContain('kubectl kustomize k8s/dev')
  })

  test('builds both images, loads them into kind, applies k8s/dev, installs and runs helm test', () => {
    const job = ci.jobs.kind!
    const built = (job.steps ?? [])
      .filter((s) => s.uses?.startsWith('docker/build-push-action@'))
      .map((s) => s.with?.file)
    expect(built).toEqual(['services/users-api/Dockerfile', 'services/auth-api/Dockerfile'])
    expect(usesOf(job)).toContain('helm/kind-action')
    const script = runs(job)
    for (const expected of [
      'kind load docker-image users-auth/users-api:dev users-auth/auth-api:dev',
      'kubectl apply -k k8s/dev',
      'bash k8s/dev/create-secret.sh',
      'helm upgrade --install users-auth charts/users-auth -n users-auth-dev',
      '-f k8s/dev/values.yaml --wait',
      'helm test users-auth -n users-auth-dev --logs',
    ]) {
      expect(script).toContain(expected)
    }
  })
})

describe('release.yml', () => {
  const release = workflow('release.yml')
  const job = release.jobs.image!

  test('builds both services as a matrix and pushes to GHCR with SBOM and provenance', () => {
    expect(job.strategy?.matrix?.service).toEqual(['users-api', 'auth-api'])
    expect(job.permissions).toEqual({ contents: 'read', packages: 'write' })
    expect(usesOf(job)).toEqual([
      'actions/checkout',
      'docker/setup-qemu-action',
      'docker/setup-buildx-action',
      'docker/login-action',
      'docker/metadata-action',
      'docker/build-push-action',
    ])
    const build = job.steps!.find((s) => s.uses?.startsWith('docker/build-push-action@'))!
    expect(build.with).toMatchObject({
      push: true,
      provenance: 'mode=max',
      sbom: true,
      'cache-from': 'type=gha,scope=${{ matrix.service }}',
      'cache-to': 'type=gha,mode=max,scope=${{ matrix.service }}',
      file: 'services/${{ matrix.service }}/Dockerfile',
    })
    const meta = job.steps!.find((s) => s.uses?.startsWith('docker/metadata-action@'))!
    expect(String(meta.with?.tags)).toContain('type=sha,format=long')
    expect(String(meta.with?.tags)).toContain('type=semver,pattern={{version}}')
  })
})

describe('deploy.yml', () => {
  const deploy = workflow('deploy.yml')
  const job = deploy.jobs.deploy!

  test('runs by hand or after a successful release, behind a GitHub environment', () => {
    expect(Object.keys(deploy.on).sort()).toEqual(['workflow_dispatch', 'workflow_run'])
    expect(deploy.on.workflow_run).toEqual({ workflows: ['Release'], types: ['completed'] })
    expect(job.environment).toBe("${{ inputs.environment || 'staging' }}")
    expect(job.permissions).toEqual({ contents: 'read', 'id-token': 'write' })
  })

  test('reaches the cluster through AWS OIDC or a kubeconfig secret and rolls out atomically', () => {
    expect(usesOf(job)).toContain('aws-actions/configure-aws-credentials')
    const script = runs(job)
    expect(script).toContain('aws eks update-kubeconfig')
    expect(script).toContain('KUBECONFIG_CONTENT')
    expect(script).toMatch(/helm upgrade --install "\$RELEASE" charts\/users-auth/)
    expect(script).toContain('--atomic --wait')
    expect(script).toContain('helm test "$RELEASE"')
    // Untrusted values reach the shell only through env, and the tag is validated first.
    expect(job.env?.IMAGE_TAG).toContain('inputs.image_tag')
    expect(script).toContain('[[ "$IMAGE_TAG" =~')
  })
})

test('actionlint itself reports a broken workflow', async () => {
  const broken = [
    'on: push',
    'jobs:',
    '  a:',
    '    runs-on: ubuntu-24.04',
    '    needs: [missing]',
    '    steps:',
    '      - run: echo "${{ github.event.head_commit.message }}"',
  ].join('\n')
  const findings = await lintWorkflow(broken, 'broken.yml')
  const messages = findings.map((f) => f.message).join('\n')
  expect(messages).toMatch(/missing/)
  expect(messages).toMatch(/untrusted/)
})
