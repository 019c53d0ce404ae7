import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parseAllDocuments } from 'yaml'
import { chartDir, fromRoot } from './repo.js'
import { onPath, run, type RunResult } from './run.js'

export interface K8sObject {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace?: string; labels?: Record<string, string> } & Record<
    string,
    unknown
  >
  [key: string]: unknown
}

export interface Renderer {
  kind: 'helm' | 'helmlite'
  bin: string
}

let helmliteBin: string | undefined

/** Builds (once, cached outside git) and returns the offline renderer. */
export function helmlite(): string {
  if (helmliteBin) return helmliteBin
  const built = run('bash', [fromRoot('tests/deploy/helmlite/build.sh')])
  if (built.status !== 0) {
    throw new Error(`helmlite could not be built:\n${built.stderr}`)
  }
  helmliteBin = built.stdout.trim()
  return helmliteBin
}

/** The real helm when it is installed (as in the workflows), otherwise helmlite. */
export function renderer(): Renderer {
  const helm = onPath('helm')
  return helm ? { kind: 'helm', bin: helm } : { kind: 'helmlite', bin: helmlite() }
}

export interface RenderOptions {
  /** Values files, relative to the repository root. */
  valueFiles?: readonly string[]
  /** Extra values, applied last. */
  values?: Record<string, unknown>
  release?: string
  namespace?: string
}

function valueArgs(options: RenderOptions): string[] {
  const files = (options.valueFiles ?? []).map((f) => fromRoot(f))
  if (options.values) {
    const dir = mkdtempSync(path.join(tmpdir(), 'users-auth-values-'))
    const file = path.join(dir, 'values.json')
    // JSON is YAML, so helm reads it as a values file.
    writeFileSync(file, JSON.stringify(options.values))
    files.push(file)
  }
  return files.flatMap((f) => ['-f', f])
}

/** `helm template` of the chart; the caller checks the status (schema failures are non-zero). */
export function template(options: RenderOptions = {}): RunResult {
  const { bin } = renderer()
  const release = options.release ?? 'users-auth'
  const namespace = options.namespace ?? 'users-auth'
  return run(bin, ['template', release, chartDir, '-n', namespace, ...valueArgs(options)])
}

/** The rendered NOTES.txt. */
export function notes(options: RenderOptions = {}): RunResult {
  const r = renderer()
  const release = options.release ?? 'users-auth'
  const namespace = options.namespace ?? 'users-auth'
  if (r.kind === 'helmlite') {
    return run(r.bin, [
      'template',
      release,
      chartDir,
      '-n',
      namespace,
      '--notes',
      ...valueArgs(options),
    ])
  }
  // A client-side dry-run prints the notes without a cluster.
  const out = run(r.bin, [
    'install',
    release,
    chartDir,
    '-n',
    namespace,
    '--dry-run=client',
    ...valueArgs(options),
  ])
  const at = out.stdout.indexOf('NOTES:\n')
  return { ...out, stdout: at === -1 ? '' : out.stdout.slice(at + 'NOTES:\n'.length) }
}

export function parseManifests(text: string): K8sObject[] {
  const objects: K8sObject[] = []
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) {
      throw new Error(
        `rendered YAML does not parse: ${doc.errors.map((e) => e.message).join('; ')}`,
      )
    }
    const value: unknown = doc.toJS()
    if (value === null || value === undefined) continue
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new Error(`rendered document is not an object: ${JSON.stringify(value)}`)
    }
    objects.push(value as K8sObject)
  }
  return objects
}

/** Renders and parses, failing with helm's own message when rendering fails. */
export function render(options: RenderOptions = {}): K8sObject[] {
  const result = template(options)
  if (result.status !== 0) {
    throw new Error(`helm template failed:\n${result.stderr}`)
  }
  return parseManifests(result.stdout)
}
