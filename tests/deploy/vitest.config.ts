import { defineProject } from 'vitest/config'
import { sourceConditions } from '../../scripts/vitest-shared.js'

export default defineProject({
  ...sourceConditions,
  test: {
    name: 'deploy',
    // Installs (or finds) helm, actionlint, ShellCheck and docker-compose first.
    globalSetup: ['./global-setup.ts'],
    // Each check shells out to helm or a linter.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
})
