import { readFile } from 'node:fs/promises'
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'

// Reads a V8 .cpuprofile (node --cpu-prof) and says where the time went within a window: self
// and inclusive time by package or workspace module, and by function.

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
type Frame = ProfileNode['callFrame']

const pathOf = (url: string): string => (url.startsWith('file://') ? fileURLToPath(url) : url)

/** Where a frame's code comes from: an npm package, a workspace module, node itself, or V8. */
export function groupOf({ url, functionName }: Frame, repoRoot: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(V8 builtins)'
  if (url.startsWith('node:')) {
    const parts = url.slice(5).split('/')
    return `node:${parts.slice(0, parts[0] === 'internal' ? 2 : 1).join('/')}`
  }
  const path = pathOf(url)
  const at = path.lastIndexOf('/node_modules/')
  if (at >= 0) {
    const [scope = '', name = ''] = path.slice(at + 14).split('/')
    return scope.startsWith('@') ? `${scope}/${name}` : scope
  }
  const inRepo = relative(repoRoot, path)
  return inRepo.startsWith('..') ? path : inRepo.split('/').slice(0, 2).join('/')
}

function functionOf(frame: Frame, repoRoot: string): string {
  const path = pathOf(frame.url)
  const at = path.lastIndexOf('/node_modules/')
  const short =
    at >= 0 ? path.slice(at + 14) : path.startsWith('/') ? relative(repoRoot, path) : path
  const name = frame.functionName || '(anonymous)'
  return frame.url === '' ? name : `${name} ${short}:${frame.lineNumber + 1}`
}

export interface ProfileSummary {
  /** Samples in the window, idle included, and those that were not idle. */
  samples: number
  busy: number
  /** Samples by package or function, self or inclusive, busiest first. */
  tables: Record<string, [string, number][]>
}

/**
 * Summarises the samples taken between `fromUs` and `toUs` (microseconds of the monotonic
 * clock that both V8's profiler and process.hrtime read).
 */
export async function summarizeProfile(
  file: string,
  repoRoot: string,
  window: { fromUs: number; toUs: number },
): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as {
    nodes: ProfileNode[]
    startTime: number
    samples: number[]
    timeDeltas: number[]
  }
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parent = new Map(profile.nodes.flatMap((n) => (n.children ?? []).map((c) => [c, n.id])))
  const group = (node: ProfileNode): string => groupOf(node.callFrame, repoRoot)
  const fn = (node: ProfileNode): string => functionOf(node.callFrame, repoRoot)
  const keyings = { 'package / module': group, function: fn }
  const tallies = new Map<string, Map<string, number>>()
  const bump = (table: string, key: string): void => {
    const tally = tallies.get(table) ?? new Map<string, number>()
    tallies.set(table, tally.set(key, (tally.get(key) ?? 0) + 1))
  }
  let [samples, busy, time] = [0, 0, profile.startTime]
  profile.samples.forEach((id, i) => {
    time += profile.timeDeltas[i] ?? 0
    const node = byId.get(id)
    if (!node || time < window.fromUs || time > window.toUs) return
    samples += 1
    if (['(idle)', '(root)'].includes(node.callFrame.functionName)) return
    busy += 1
    const stack: ProfileNode[] = []
    for (let at = byId.get(parent.get(node.id) ?? -1); at; at = byId.get(parent.get(at.id) ?? -1)) {
      if (at.callFrame.functionName !== '(root)') stack.push(at)
    }
    for (const [by, keyOf] of Object.entries(keyings)) {
      bump(`self time by ${by}`, keyOf(node))
      for (const key of new Set([node, ...stack].map(keyOf))) bump(`inclusive time by ${by}`, key)
    }
  })
  const tables = Object.fromEntries(
    [...tallies].map(([title, tally]) => {
      const limit = title.endsWith('function') ? 30 : 15
      return [title, [...tally].sort((a, b) => b[1] - a[1]).slice(0, limit)]
    }),
  )
  return { samples, busy, tables }
}

export function profileMarkdown(name: string, s: ProfileSummary): string {
  const pct = (n: number, of: number): string => `${((100 * n) / Math.max(1, of)).toFixed(1)} %`
  return [
    `### ${name}`,
    '',
    `${s.samples} samples in the window, ${s.busy} busy (${pct(s.busy, s.samples)} of one core).`,
    '',
    ...Object.entries(s.tables).flatMap(([title, rows]) => [
      `| ${title} | samples | share of busy |`,
      '|---|---:|---:|',
      ...rows.map(
        ([label, n]) => `| \`${label.replaceAll('|', '\\|')}\` | ${n} | ${pct(n, s.busy)} |`,
      ),
      '',
    ]),
  ].join('\n')
}
