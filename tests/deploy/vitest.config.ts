import { defineProject } from 'vitest/config'
import { sourceConditions } from '../../scripts/vitest-shared.js'

export default defineProject({
  ...sourceConditions,
  test: {
    name: 'deploy',
    // Each check shells out to a renderer or linter; the first call may also build helmlite.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
})
