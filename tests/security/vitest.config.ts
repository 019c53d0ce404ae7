import { defineProject } from 'vitest/config'
import { sourceConditions } from '../../scripts/vitest-shared.js'

export default defineProject({
  ...sourceConditions,
  // Global setup runs in vitest's own module environment, which does not inherit the
  // source conditions given to the test environments.
  environments: { __vitest__: { resolve: sourceConditions.resolve } },
  test: {
    name: 'security',
    // One MongoDB and one running users-api + auth-api pair (child processes, as deployed) for
    // the whole suite; their logs are captured and checked for secrets when it ends.
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
