import { readFile } from 'node:fs/promises'
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'

// Reads a V8 .cpuprofile (node --cpu-prof) and says where the time went within a window:
// self time by function, and self and inclusive time by package or workspace module.

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
}

interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}

interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

export interface Share {
  name: string
  samples: number
  /** Share of the busy (non-idle) samples, 0..1. */
  share: number
}

export interface ProfileSummary {
  file: string
  /** Samples in the window, idle included. */
  samples: number
  busy: number
  /** Busy share of the window: roughly how much of one core this process used. */
  busyShare: number
  selfByGroup: Share[]
  inclusiveByGroup: Share[]
  selfByFunction: Share[]
  inclusiveByFunction: Share[]
}

const idleNames = new Set(['(idle)', '(root)'])

/** Where a frame's code comes from: an npm package, a workspace module, node itself, or V8. */
export function groupOf(frame: CallFrame, repoRoot: string): string {
  const { url, functionName } = frame
  if (functionName.startsWith('(') && url === '') return functionName
  if (url === '') return '(V8 builtins)'
  if (url.startsWith('node:')) {
    const parts = url.slice(5).split('/')
    return `node:${parts.slice(0, parts[0] === 'internal' ? 2 : 1).join('/')}`
  }
  const path = url.startsWith('file://') ? fileURLToPath(url) : url
  const marker = '/node_modules/'
  const at = path.lastIndexOf(marker)
  if (at >= 0) {
    const rest = path.slice(at + marker.length).split('/')
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? path)
  }
  const inRepo = relative(repoRoot, path)
  if (!inRepo.startsWith('..')) {
    const parts = inRepo.split('/')
    return parts.length > 2 ? `${parts[0] ?? ''}/${parts[1] ?? ''}` : inRepo
  }
  return path
}

function functionLabel(frame: CallFrame, repoRoot: string): string {
  const name = frame.functionName || '(anonymous)'
  if (frame.url === '') return name
  if (!frame.url.startsWith('file://') && !frame.url.startsWith('/')) {
    return `${name} ${frame.url}:${frame.lineNumber + 1}`
  }
  const path = frame.url.startsWith('file://') ? fileURLToPath(frame.url) : frame.url
  const marker = '/node_modules/'
  const at = path.lastIndexOf(marker)
  const short = at >= 0 ? path.slice(at + marker.length) : relative(repoRoot, path)
  return `${name} ${short}:${frame.lineNumber + 1}`
}

function top(counts: Map<string, number>, busy: number, limit: number): Share[] {
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, samples]) => ({ name, samples, share: busy > 0 ? samples / busy : 0 }))
}

function bump(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1)
}

/**
 * Summarises the samples taken between `fromUs` and `toUs` (microseconds of the monotonic
 * clock that both V8's profiler and process.hrtime read); the whole profile when omitted.
 */
export async function summarizeProfile(
  file: string,
  repoRoot: string,
  window?: { fromUs: number; toUs: number },
  limit = 15,
): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id)
  const groups = new Map<number, string>()
  const groupFor = (node: ProfileNode): string => {
    let group = groups.get(node.id)
    if (group === undefined) {
      group = groupOf(node.callFrame, repoRoot)
      groups.set(node.id, group)
    }
    return group
  }

  const selfByGroup = new Map<string, number>()
  const inclusiveByGroup = new Map<string, number>()
  const selfByFunction = new Map<string, number>()
  const inclusiveByFunction = new Map<string, number>()
  const labels = new Map<number, string>()
  const labelFor = (node: ProfileNode): string => {
    let label = labels.get(node.id)
    if (label === undefined) {
      label = functionLabel(node.callFrame, repoRoot)
      labels.set(node.id, label)
    }
    return label
  }
  let samples = 0
  let busy = 0
  let time = profile.startTime
  for (let i = 0; i < profile.samples.length; i++) {
    time += profile.timeDeltas[i] ?? 0
    if (window && (time < window.fromUs || time > window.toUs)) continue
    const node = byId.get(profile.samples[i] ?? -1)
    if (!node) continue
    samples += 1
    if (idleNames.has(node.callFrame.functionName)) continue
    busy += 1
    bump(selfByGroup, groupFor(node))
    bump(selfByFunction, labelFor(node))
    const seenGroups = new Set<string>()
    const seenFunctions = new Set<string>()
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const ancestor = byId.get(id)
      if (!ancestor || ancestor.callFrame.functionName === '(root)') continue
      const group = groupFor(ancestor)
      if (!seenGroups.has(group)) {
        seenGroups.add(group)
        bump(inclusiveByGroup, group)
      }
      const label = labelFor(ancestor)
      if (!seenFunctions.has(label)) {
        seenFunctions.add(label)
        bump(inclusiveByFunction, label)
      }
    }
  }
  return {
    file,
    samples,
    busy,
    busyShare: samples > 0 ? busy / samples : 0,
    selfByGroup: top(selfByGroup, busy, limit),
    inclusiveByGroup: top(inclusiveByGroup, busy, limit),
    selfByFunction: top(selfByFunction, busy, limit * 2),
    inclusiveByFunction: top(inclusiveByFunction, busy, limit * 3),
  }
}

export function profileMarkdown(name: string, s: ProfileSummary): string {
  const pct = (share: number): string => `${(share * 100).toFixed(1)} %`
  const table = (title: string, rows: Share[]): string[] => [
    `| ${title} | samples | share of busy |`,
    '|---|---:|---:|',
    ...rows.map((r) => `| \`${r.name.replaceAll('|', '\\|')}\` | ${r.samples} | ${pct(r.share)} |`),
    '',
  ]
  return [
    `### ${name}`,
    '',
    `${s.samples} samples in the window, ${s.busy} busy (${pct(s.busyShare)} of one core).`,
    '',
    ...table('self time by package / module', s.selfByGroup),
    ...table('inclusive time by package / module', s.inclusiveByGroup),
    ...table('self time by function', s.selfByFunction),
    ...table('inclusive time by function', s.inclusiveByFunction),
  ].join('\n')
}
