import { defineProject } from 'vitest/config'
import { sourceConditions } from '../../scripts/vitest-shared.js'

export default defineProject({
  ...sourceConditions,
  test: {
    name: 'tracing',
    // Both services run as child processes, as deployed, with the SDK exporting to a receiver
    // in the test.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
