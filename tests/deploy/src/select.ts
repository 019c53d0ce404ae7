import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap'
import type { INamespace } from 'kubernetes-models/v1/Namespace'
import type { IPod } from 'kubernetes-models/v1/Pod'
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec'
import type { ISecret } from 'kubernetes-models/v1/Secret'
import type { IService } from 'kubernetes-models/v1/Service'
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount'
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment'
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet'
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler'
import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1/Ingress'
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy'
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget'
import type { K8sObject } from './helm.js'

export type { IPodSpec }

/** Typed views of rendered objects; use them after validateObject() passed. */
export interface KindMap {
  ConfigMap: IConfigMap
  Namespace: INamespace
  Pod: IPod
  Secret: ISecret
  Service: IService
  ServiceAccount: IServiceAccount
  Deployment: IDeployment
  StatefulSet: IStatefulSet
  HorizontalPodAutoscaler: IHorizontalPodAutoscaler
  Ingress: IIngress
  NetworkPolicy: INetworkPolicy
  PodDisruptionBudget: IPodDisruptionBudget
}

export function ofKind<K extends keyof KindMap>(
  objects: readonly K8sObject[],
  kind: K,
): KindMap[K][] {
  return objects.filter((o) => o.kind === kind) as unknown as KindMap[K][]
}

export function named<K extends keyof KindMap>(
  objects: readonly K8sObject[],
  kind: K,
  name: string,
): KindMap[K] {
  const found = ofKind(objects, kind).find((o) => o.metadata?.name === name)
  if (!found) {
    const names = ofKind(objects, kind).map((o) => o.metadata?.name)
    throw new Error(`no ${kind} named ${name} (have: ${names.join(', ')})`)
  }
  return found
}

/** The pod specs inside workloads and bare pods, with where they came from. */
export function podSpecs(objects: readonly K8sObject[]): { where: string; spec: IPodSpec }[] {
  const out: { where: string; spec: IPodSpec }[] = []
  for (const d of [...ofKind(objects, 'Deployment'), ...ofKind(objects, 'StatefulSet')]) {
    const spec = d.spec?.template.spec
    if (spec) out.push({ where: `${d.kind}/${d.metadata?.name ?? '?'}`, spec })
  }
  for (const p of ofKind(objects, 'Pod')) {
    if (p.spec) out.push({ where: `Pod/${p.metadata?.name ?? '?'}`, spec: p.spec })
  }
  return out
}

/** True when every matchLabels pair is among the labels. */
export function selects(
  matchLabels: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (!matchLabels || Object.keys(matchLabels).length === 0) return false
  return Object.entries(matchLabels).every(([k, v]) => labels?.[k] === v)
}
