import { repoRoot } from './repo.js'
import { requireTool, run } from './run.js'
import { toolPath } from './tools.js'

export interface LintFinding {
  message: string
  line: number
  column: number
  kind: string
}

/**
 * Findings of the real actionlint (the version install-tools.sh builds) for one workflow; []
 * when clean. ShellCheck is named explicitly, so `run:` scripts are always checked too: a
 * missing shellcheck is an error, not a silently skipped rule.
 */
export function lintWorkflow(source: string, path: string): Promise<LintFinding[]> {
  const result = run(
    toolPath('actionlint'),
    [
      '-format',
      '{{json .}}',
      `-shellcheck=${requireTool('shellcheck')}`,
      '-pyflakes=',
      '-stdin-filename',
      path,
      '-',
    ],
    { cwd: repoRoot, input: source },
  )
  // 0: clean, 1: findings; anything else is actionlint failing to run.
  if (result.status !== 0 && result.status !== 1) {
    throw new Error(`actionlint exited with ${String(result.status)}: ${result.stderr}`)
  }
  const findings = JSON.parse(result.stdout || '[]') as LintFinding[]
  return Promise.resolve(
    findings.map(({ message, line, column, kind }) => ({ message, line, column, kind })),
  )
}
