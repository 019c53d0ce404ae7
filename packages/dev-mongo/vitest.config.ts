import { defineProject } from 'vitest/config'
import { sourceConditions } from '../../scripts/vitest-shared.js'

export default defineProject({
  ...sourceConditions,
  // Global setup runs in vitest's own module environment, which does not inherit the
  // source conditions given to the test environments.
  environments: { __vitest__: { resolve: sourceConditions.resolve } },
  test: {
    name: 'dev-mongo',
    // One MongoDB per run (see test/global-setup.ts); every test file uses its own database.
    globalSetup: ['./test/global-setup.ts'],
  },
})
