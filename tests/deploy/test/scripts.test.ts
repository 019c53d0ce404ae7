// The repository's shell scripts pass ShellCheck (following what they source).
import { expect, test } from 'vitest'
import { requireTool, run } from '../src/run.js'

const scripts = [
  '.ci/run',
  'scripts/test-all.sh',
  'scripts/ferretdb-tests.sh',
  'scripts/lib/machine.sh',
  'deploy/nginx/dev-cert.sh',
  'tests/deploy/install-tools.sh',
  '.github/scripts/package-chart.sh',
  'k8s/dev/create-secret.sh',
]

test.each(scripts)('%s passes shellcheck', (script) => {
  const result = run(requireTool('shellcheck'), ['--severity=style', '--external-sources', script])
  expect(result.stdout + result.stderr).toBe('')
  expect(result.status).toBe(0)
})
