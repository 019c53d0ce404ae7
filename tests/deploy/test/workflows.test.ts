// Every workflow passes the real actionlint (with ShellCheck on its run: steps) and the
// project's rules: actions pinned by commit SHA with the version in a comment, least-privilege
// permissions, no event data interpolated into shell, and the pipeline steps the deployment
// relies on. Deploy's guard (only commits on main) runs for real against a scratch repository.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parse } from 'yaml'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { lintWorkflow } from '../src/actionlint.js'
import { fromRoot } from '../src/repo.js'
import { run, type RunResult } from '../src/run.js'
import { pinnedVersion, toolPath } from '../src/tools.js'

interface Step {
  name?: string
  id?: string
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
  if?: string
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

  test('lints, typechecks and tests on Node 22 and 24 against a real MongoDB 7', () => {
    const job = ci.jobs.test!
    expect(job.strategy?.matrix?.node).toEqual([22, 24])
    const setupNode = job.steps!.find((s) => s.uses?.startsWith('actions/setup-node@'))!
    expect(setupNode.with?.['node-version']).toBe('${{ matrix.node }}')
    expect(job.services?.mongodb?.image).toMatch(/^mongo:7/)
    expect(job.env?.MONGODB_URI).toMatch(/^mongodb:\/\/127\.0\.0\.1:27017\//)
    const commands = (job.steps ?? []).map((s) => s.run).filter(Boolean)
    expect(commands).toEqual([
      'pnpm install --frozen-lockfile',
      'pnpm lint',
      'pnpm typecheck',
      'bash tests/deploy/install-tools.sh',
      expect.stringMatching(/apt-get install .*nginx-light python3-argon2$/),
      'pnpm test',
    ])
  })

  test('builds helm and actionlint with Go, cached by the install script it runs', () => {
    const job = ci.jobs.test!
    const order = usesOf(job)
    expect(order.indexOf('actions/setup-go')).toBeGreaterThan(-1)
    const cache = job.steps!.find((s) => s.uses?.startsWith('actions/cache@'))!
    expect(cache.with).toEqual({
      path: '~/.cache/users-auth/tools',
      key: "deploy-tools-${{ runner.os }}-${{ hashFiles('tests/deploy/install-tools.sh') }}",
    })
    const install = job.steps!.findIndex((s) => s.run === 'bash tests/deploy/install-tools.sh')
    expect(job.steps!.indexOf(cache)).toBeLessThan(install)
  })

  test('every workflow pins the helm that the deploy tests build', () => {
    const helm = pinnedVersion('helm')
    expect(workflow('ci.yml') as unknown).toMatchObject({ env: { HELM_VERSION: helm } })
    expect(workflow('release.yml').jobs.chart?.env?.HELM_VERSION).toBe(helm)
    const setupHelm = workflow('deploy.yml').jobs.deploy!.steps!.find((s) =>
      s.uses?.startsWith('azure/setup-helm@'),
    )
    expect(setupHelm?.with?.version).toBe(helm)
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

describe('release.yml: the chart', () => {
  const job = workflow('release.yml').jobs.chart!

  test('is pushed to oci://ghcr.io/<owner>/charts after both images, for version tags only', () => {
    expect(job.needs).toEqual(['image'])
    expect(job.if).toBe("startsWith(github.ref, 'refs/tags/v')")
    expect(job.permissions).toEqual({ contents: 'read', packages: 'write' })
    const script = runs(job)
    // Version and images pinned to the release, checked before the push.
    expect(script).toContain(
      'bash .github/scripts/package-chart.sh "$version" "ghcr.io/${GITHUB_REPOSITORY,,}"',
    )
    expect(script).toContain('helm lint --strict "$chart"')
    expect(script).toContain('registry="oci://ghcr.io/${GITHUB_REPOSITORY_OWNER,,}/charts"')
    expect(script).toContain(
      'helm registry login ghcr.io --username "$GITHUB_ACTOR" --password-stdin',
    )
    expect(script).toContain('helm push "$CHART" "$registry"')
    // The token reaches helm on stdin, never as an argument.
    expect(script).not.toMatch(/--password[ =]/)
  })
})

describe('deploy.yml', () => {
  const deploy = workflow('deploy.yml')
  const job = deploy.jobs.deploy!
  const stepIndex = (match: (s: Step) => boolean): number => job.steps!.findIndex(match)

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

  test('both paths check the commit on a full-history checkout of main before anything else', () => {
    // workflow_run deploys the Release's commit, workflow_dispatch the tag it is given: both
    // arrive as IMAGE_TAG and go through the same check.
    expect(job.env?.IMAGE_TAG).toBe(
      "${{ inputs.image_tag || format('sha-{0}', github.event.workflow_run.head_sha) }}",
    )
    const [checkout] = job.steps!
    expect(checkout?.uses).toMatch(/^actions\/checkout@/)
    expect(checkout?.with).toEqual({ ref: 'main', 'fetch-depth': 0, 'persist-credentials': false })
    const guard = stepIndex((s) => s.id === 'commit')
    expect(guard).toBe(1)
    expect(job.steps![guard]!.run).toContain('git merge-base --is-ancestor "$commit" origin/main')
    // Cluster credentials and helm come after it, and helm deploys the checked commit's images.
    expect(stepIndex((s) => Boolean(s.uses?.startsWith('aws-actions/')))).toBeGreaterThan(guard)
    const upgrade = job.steps!.find((s) => s.run?.includes('helm upgrade'))!
    expect(upgrade.env?.DEPLOY_TAG).toBe('${{ steps.commit.outputs.image_tag }}')
    expect(upgrade.run).toContain('--set "usersApi.image.tag=$DEPLOY_TAG"')
    expect(upgrade.run).toContain('--set "authApi.image.tag=$DEPLOY_TAG"')
    expect(upgrade.run).not.toContain('$IMAGE_TAG')
  })
})

describe('deploy.yml: the guard, run against a scratch repository', () => {
  const guard = workflow('deploy.yml').jobs.deploy!.steps!.find((s) => s.id === 'commit')!.run!
  const git = (cwd: string, ...args: string[]): string => {
    const result = run('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.test', ...args], {
      cwd,
    })
    if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`)
    return result.stdout.trim()
  }
  let dir: string
  let clone: string
  const commits: Record<string, string> = {}

  beforeAll(() => {
    // main: A (tag v1.0.0, annotated) - B (tag v1.0.1, lightweight); side: A - S (tag v1.1.0).
    dir = mkdtempSync(path.join(tmpdir(), 'users-auth-deploy-guard-'))
    const origin = path.join(dir, 'origin')
    run('git', ['init', '-q', '-b', 'main', origin])
    const commit = (name: string): string => {
      git(origin, 'commit', '-q', '--allow-empty', '-m', name)
      return git(origin, 'rev-parse', 'HEAD')
    }
    commits.A = commit('A')
    git(origin, 'tag', '-a', '-m', 'release', 'v1.0.0')
    commits.B = commit('B')
    git(origin, 'tag', 'v1.0.1')
    git(origin, 'checkout', '-q', '-b', 'side', commits.A)
    commits.S = commit('S')
    git(origin, 'tag', 'v1.1.0')
    git(origin, 'checkout', '-q', 'main')
    // What actions/checkout leaves with fetch-depth 0: every branch under origin/, every tag.
    clone = path.join(dir, 'clone')
    git(dir, 'clone', '-q', origin, clone)
  })
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true })
  })

  function runGuard(imageTag: string, ref = 'refs/heads/main'): RunResult & { output: string } {
    const output = path.join(dir, `output-${String(Math.random()).slice(2)}`)
    writeFileSync(output, '')
    const script = path.join(dir, 'guard.sh')
    writeFileSync(script, guard)
    git(clone, 'checkout', '-q', 'main')
    // The shell GitHub runs for `shell: bash`.
    const result = run('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], {
      cwd: clone,
      env: { ...process.env, IMAGE_TAG: imageTag, GITHUB_REF: ref, GITHUB_OUTPUT: output },
    })
    return { ...result, output: readFileSync(output, 'utf8') }
  }

  test.each([
    ["a sha- tag of main's first commit", () => `sha-${commits.A!}`, 'A'],
    ["a sha- tag of main's head", () => `sha-${commits.B!}`, 'B'],
    ['a release with an annotated tag on main', () => '1.0.0', 'A'],
    ['a release with a lightweight tag on main', () => '1.0.1', 'B'],
  ])("deploys %s, as that commit's sha- images and chart", (_what, tag, expected) => {
    const result = runGuard(tag())
    expect(result.stdout + result.stderr).not.toContain('::error::')
    expect(result.status).toBe(0)
    expect(result.output).toBe(`image_tag=sha-${commits[expected]!}\n`)
    expect(git(clone, 'rev-parse', 'HEAD')).toBe(commits[expected])
  })

  test.each([
    ['a commit only on another branch', () => `sha-${commits.S!}`, 'is not on main'],
    ['a release tag on another branch', () => '1.1.0', 'is not on main'],
    ['a version with no release tag', () => '2.0.0', 'there is no tag v2.0.0'],
    ['a commit unknown to the repository', () => `sha-${'0'.repeat(40)}`, 'is not a commit'],
    ['a short sha', () => `sha-${commits.A!.slice(0, 7)}`, 'neither X.Y.Z nor sha-<commit>'],
    ['a moving tag', () => 'latest', 'neither X.Y.Z nor sha-<commit>'],
    ['shell in the tag', () => '1.0.0$(id)', 'neither X.Y.Z nor sha-<commit>'],
  ])('refuses %s', (_what, tag, message) => {
    const result = runGuard(tag())
    expect(result.status).not.toBe(0)
    expect(result.stdout).toContain(`::error::`)
    expect(result.stdout).toContain(message)
    expect(result.output).toBe('')
    expect(git(clone, 'rev-parse', 'HEAD')).toBe(commits.B)
  })

  test('refuses a run dispatched from another branch', () => {
    const result = runGuard(`sha-${commits.B!}`, 'refs/heads/side')
    expect(result.status).not.toBe(0)
    expect(result.stdout).toContain('run Deploy from main')
  })
})

test('actionlint itself reports a broken workflow, ShellCheck findings included', async () => {
  const broken = [
    'on: push',
    'jobs:',
    '  a:',
    '    runs-on: ubuntu-24.04',
    '    needs: [missing]',
    '    steps:',
    '      - run: echo "${{ github.event.head_commit.message }}"',
    '      - run: rm -rf $DIR/build',
  ].join('\n')
  const findings = await lintWorkflow(broken, 'broken.yml')
  const messages = findings.map((f) => f.message).join('\n')
  expect(messages).toMatch(/missing/)
  expect(messages).toMatch(/untrusted/)
  expect(findings.find((f) => f.kind === 'shellcheck')?.message).toContain('SC2086')
})

test('actionlint is the real one, at the version the install script pins', () => {
  const version = run(toolPath('actionlint'), ['-version']).stdout.split('\n')[0]
  expect(version).toBe(pinnedVersion('actionlint'))
})
