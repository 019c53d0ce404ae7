// Before any deploy check: the real helm and actionlint (built once per machine), ShellCheck and
// docker-compose, from the one script .ci/run also calls. Quick when all is there; a failure
// stops the project here instead of surfacing as a missing tool in every test.
import { spawnSync } from 'node:child_process'
import { installScript } from './src/tools.js'

export default function setup(): void {
  const result = spawnSync('bash', [installScript], { stdio: ['ignore', 'inherit', 'inherit'] })
  if (result.error) throw result.error
  if (result.status !== 0) {
    throw new Error(
      `${installScript} failed (exit ${String(result.status)}): the deploy checks need the tools it installs`,
    )
  }
}
