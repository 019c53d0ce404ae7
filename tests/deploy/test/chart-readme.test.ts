// Every value is documented with `## @param`, and the README table is the one generated from
// those comments.
import { readFileSync } from 'node:fs'
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
