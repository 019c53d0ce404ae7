// The chart README's parameter table is generated from the `## @param` comments in values.yaml
// (the convention of @bitnami/readme-generator-for-helm), so the two cannot drift apart:
//   pnpm --filter @users-auth/deploy-tests chart-readme
import { parse } from 'yaml'
import { chartDir } from './repo.js'

export interface Param {
  key: string
  description: string
}
export interface Section {
  title: string
  params: Param[]
}

export const START = '<!-- parameters:start (generated from values.yaml) -->'
export const END = '<!-- parameters:end -->'

export function readSections(valuesText: string): Section[] {
  const sections: Section[] = []
  for (const line of valuesText.split('\n')) {
    const section = /^\s*## @section (.+)$/.exec(line)
    if (section) {
      sections.push({ title: section[1]!.trim(), params: [] })
      continue
    }
    const param = /^\s*## @param (\S+) (.+)$/.exec(line)
    if (param) {
      const current = sections.at(-1)
      if (!current) throw new Error(`@param ${param[1]!} comes before any @section`)
      current.params.push({ key: param[1]!, description: param[2]!.trim() })
    }
  }
  return sections
}

/** The value at a dotted path, or undefined when a segment is missing. */
export function valueAt(values: unknown, key: string): { found: boolean; value: unknown } {
  let node: unknown = values
  for (const part of key.split('.')) {
    if (typeof node !== 'object' || node === null || Array.isArray(node) || !(part in node)) {
      return { found: false, value: undefined }
    }
    node = (node as Record<string, unknown>)[part]
  }
  return { found: true, value: node }
}

/** Dotted paths of every leaf (scalars, and empty or list values) in the values. */
export function leafPaths(values: unknown, prefix = ''): string[] {
  if (typeof values !== 'object' || values === null || Array.isArray(values)) return [prefix]
  const entries = Object.entries(values)
  if (entries.length === 0) return [prefix]
  return entries.flatMap(([k, v]) => leafPaths(v, prefix ? `${prefix}.${k}` : k))
}

function shown(value: unknown): string {
  const json = JSON.stringify(value)
  if (typeof value === 'object' && value !== null && json.length > 40) return 'see values.yaml'
  return json
}

export function renderParameters(valuesText: string): string {
  const values: unknown = parse(valuesText)
  const out: string[] = []
  for (const section of readSections(valuesText)) {
    out.push(`### ${section.title}`, '', '| Name | Description | Value |', '| --- | --- | --- |')
    for (const p of section.params) {
      const value = shown(valueAt(values, p.key).value).replaceAll('|', '\\|')
      out.push(`| \`${p.key}\` | ${p.description.replaceAll('|', '\\|')} | \`${value}\` |`)
    }
    out.push('')
  }
  return out.join('\n').trimEnd()
}

export function withParameters(readme: string, table: string): string {
  const start = readme.indexOf(START)
  const end = readme.indexOf(END)
  if (start === -1 || end < start) throw new Error(`README lacks the ${START} ... ${END} markers`)
  return `${readme.slice(0, start + START.length)}\n\n${table}\n\n${readme.slice(end)}`
}

export const valuesPath = `${chartDir}/values.yaml`
export const readmePath = `${chartDir}/README.md`
