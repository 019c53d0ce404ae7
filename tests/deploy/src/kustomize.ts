// Renders a kustomization with `kubectl kustomize` when kubectl is installed, and otherwise
// with the small renderer below, which implements only the fields k8s/ uses and refuses any
// other, so it can never silently disagree with kustomize. A test compares the two.
import { readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { parse, parseAllDocuments } from 'yaml'
import { type K8sObject, parseManifests } from './helm.js'
import { onPath, run } from './run.js'

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'PersistentVolume',
  'StorageClass',
])
const SUPPORTED = new Set([
  'apiVersion',
  'kind',
  'namespace',
  'resources',
  'labels',
  'commonAnnotations',
])

interface LabelsEntry {
  pairs: Record<string, string>
  includeSelectors?: boolean
  includeTemplates?: boolean
}

interface Kustomization {
  namespace?: string
  resources?: string[]
  labels?: LabelsEntry[]
  commonAnnotations?: Record<string, string>
}

function readResources(file: string): K8sObject[] {
  const objects: K8sObject[] = []
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`)
    const value = doc.toJS() as K8sObject | null
    if (value) objects.push(value)
  }
  return objects
}

function addLabels(
  target: Record<string, unknown>,
  key: string,
  pairs: Record<string, string>,
): void {
  const current = (target[key] ?? {}) as Record<string, string>
  target[key] = { ...current, ...pairs }
}

export function kustomizeFallback(dir: string): K8sObject[] {
  const k = parse(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8')) as Kustomization &
    Record<string, unknown>
  const unsupported = Object.keys(k).filter((key) => !SUPPORTED.has(key))
  if (unsupported.length > 0) {
    throw new Error(`the fallback kustomize renderer does not implement: ${unsupported.join(', ')}`)
  }
  const objects: K8sObject[] = []
  for (const entry of k.resources ?? []) {
    const target = path.join(dir, entry)
    objects.push(
      ...(statSync(target).isDirectory() ? kustomizeFallback(target) : readResources(target)),
    )
  }
  for (const o of objects) {
    if (k.namespace && !CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace
    for (const entry of k.labels ?? []) {
      if (entry.includeSelectors) {
        throw new Error(
          'the fallback kustomize renderer does not implement labels.includeSelectors',
        )
      }
      addLabels(o.metadata, 'labels', entry.pairs)
      const template = (o.spec as { template?: { metadata?: Record<string, unknown> } } | undefined)
        ?.template
      if (entry.includeTemplates && template) {
        template.metadata ??= {}
        addLabels(template.metadata, 'labels', entry.pairs)
      }
    }
    if (k.commonAnnotations) addLabels(o.metadata, 'annotations', k.commonAnnotations)
  }
  return objects
}

export function kustomizeWithKubectl(dir: string): K8sObject[] | undefined {
  const kubectl = onPath('kubectl')
  if (!kubectl) return undefined
  const result = run(kubectl, ['kustomize', dir])
  if (result.status !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${result.stderr}`)
  return parseManifests(result.stdout)
}

/** kubectl's rendering when available, else the fallback's. */
export function kustomize(dir: string): { renderer: 'kubectl' | 'fallback'; objects: K8sObject[] } {
  const viaKubectl = kustomizeWithKubectl(dir)
  return viaKubectl
    ? { renderer: 'kubectl', objects: viaKubectl }
    : { renderer: 'fallback', objects: kustomizeFallback(dir) }
}
