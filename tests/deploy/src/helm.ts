import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parse, parseAllDocuments } from 'yaml'
import { chartDir, fromRoot } from './repo.js'
import { run, type RunResult } from './run.js'
import { toolPath } from './tools.js'

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
  kind: 'helm'
  bin: string
}

/** The real helm, at the version install-tools.sh builds (the one the workflows pin). */
export function renderer(): Renderer {
  return { kind: 'helm', bin: toolPath('helm') }
}

export interface RenderOptions {
  /** Values files, relative to the repository root. */
  valueFiles?: readonly string[]
  /** Extra values, applied last. */
  values?: Record<string, unknown>
  release?: string
  namespace?: string
  /** A chart folder or packaged .tgz; the repository's chart by default. */
  chart?: string
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

/** `helm template` of the chart (values.schema.json enforced); the caller checks the status. */
export function template(options: RenderOptions = {}): RunResult {
  const release = options.release ?? 'users-auth'
  const namespace = options.namespace ?? 'users-auth'
  return run(toolPath('helm'), [
    'template',
    release,
    options.chart ?? chartDir,
    '-n',
    namespace,
    ...valueArgs(options),
  ])
}

/**
 * The rendered NOTES.txt. helm prints notes only on install, and `helm install --dry-run`
 * still asks a cluster for its version, so a copy of the chart carries NOTES.txt as a named
 * template and `helm template` renders it, with the same engine and values, into one value.
 */
export function notes(options: RenderOptions = {}): RunResult {
  const dir = mkdtempSync(path.join(tmpdir(), 'users-auth-notes-'))
  try {
    const source = options.chart ?? chartDir
    const copy = path.join(dir, 'users-auth')
    if (source.endsWith('.tgz')) {
      const unpacked = run('tar', ['-xzf', source, '-C', dir])
      if (unpacked.status !== 0) throw new Error(`cannot unpack ${source}: ${unpacked.stderr}`)
    } else {
      cpSync(source, copy, { recursive: true })
    }
    const templates = path.join(copy, 'templates')
    const text = readFileSync(path.join(templates, 'NOTES.txt'), 'utf8')
    rmSync(path.join(templates, 'NOTES.txt'))
    writeFileSync(
      path.join(templates, '_notes-under-test.tpl'),
      `{{- define "notes-under-test" }}${text}{{- end }}`,
    )
    writeFileSync(
      path.join(templates, 'notes-under-test.yaml'),
      'notes: {{ include "notes-under-test" . | toJson }}\n',
    )
    const out = run(toolPath('helm'), [
      'template',
      options.release ?? 'users-auth',
      copy,
      '-n',
      options.namespace ?? 'users-auth',
      '--show-only',
      'templates/notes-under-test.yaml',
      ...valueArgs(options),
    ])
    if (out.status !== 0) return out
    const rendered = parse(out.stdout) as { notes: string }
    return { ...out, stdout: rendered.notes }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** `helm lint --strict` of the chart with the given values. */
export function lint(options: RenderOptions = {}): RunResult {
  return run(toolPath('helm'), [
    'lint',
    '--strict',
    options.chart ?? chartDir,
    ...valueArgs(options),
  ])
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
