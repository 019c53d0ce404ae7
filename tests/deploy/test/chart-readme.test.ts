// Every value is documented with `## @param`, the README table is the one generated from those
// comments, and the README installs the published chart as an operator without a checkout would.
import { existsSync, readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { expect, test } from 'vitest'
import {
  leafPaths,
  readSections,
  readmePath,
  renderParameters,
  valueAt,
  valuesPath,
  withParameters,
} from '../src/chart-readme.js'
import { fromRoot } from '../src/repo.js'

const valuesText = readFileSync(valuesPath, 'utf8')
const values: unknown = parse(valuesText)
const params = readSections(valuesText).flatMap((s) => s.params.map((p) => p.key))

test('every @param names a value that exists', () => {
  expect(params.filter((key) => !valueAt(values, key).found)).toEqual([])
  expect(new Set(params).size).toBe(params.length)
})

test('every value is documented by a @param for itself or an enclosing block', () => {
  const undocumented = leafPaths(values).filter(
    (leaf) => !params.some((p) => leaf === p || leaf.startsWith(`${p}.`)),
  )
  expect(undocumented).toEqual([])
})

test('the README parameter table is up to date (pnpm --filter @users-auth/deploy-tests chart-readme)', () => {
  const readme = readFileSync(readmePath, 'utf8')
  expect(readme).toBe(withParameters(readme, renderParameters(valuesText)))
})

test('the README installs from the OCI registry, without a checkout', () => {
  const readme = readFileSync(readmePath, 'utf8')
  expect(readme).toContain(
    'helm upgrade --install users-auth oci://ghcr.io/OWNER/charts/users-auth --version X.Y.Z',
  )
  expect(readme).toContain('[`ci/production-values.yaml`](ci/production-values.yaml) is the full')
  expect(readme).toContain(
    '"$(docker run --rm --network none ghcr.io/OWNER/REPO/auth-api:X.Y.Z node dist/keygen.js)"',
  )
  expect(readme).not.toContain('--filter auth-api keygen')
})

test('the auth-api image can run keygen as the README says: dist/keygen.js, no ENTRYPOINT', () => {
  // tsconfig.build.json compiles src/ to dist/, so src/keygen.ts is dist/keygen.js in /app.
  expect(existsSync(fromRoot('services/auth-api/src/keygen.ts'))).toBe(true)
  const build = JSON.parse(
    readFileSync(fromRoot('services/auth-api/tsconfig.build.json'), 'utf8'),
  ) as { compilerOptions: { rootDir: string; outDir: string } }
  expect(build.compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist' })
  const dockerfile = readFileSync(fromRoot('services/auth-api/Dockerfile'), 'utf8')
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '))
  expect(runtime).toMatch(/^WORKDIR \/app$/m)
  expect(runtime).not.toMatch(/^ENTRYPOINT/m)
})
