// The deployment's shell scripts pass ShellCheck.
import { expect, test } from 'vitest'
import { requireTool, run } from '../src/run.js'

const scripts = [
  'tests/deploy/install-tools.sh',
  '.github/scripts/package-chart.sh',
  'k8s/dev/create-secret.sh',
]

test.each(scripts)('%s passes shellcheck', (script) => {
  const result = run(requireTool('shellcheck'), ['--severity=style', script])
  expect(result.stdout + result.stderr).toBe('')
  expect(result.status).toBe(0)
})
