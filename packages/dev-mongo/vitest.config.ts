import { defineProject } from 'vitest/config'
import { sourceConditions } from '../../scripts/vitest-shared.js'

export default defineProject({
  ...sourceConditions,
  test: {
    name: 'dev-mongo',
    // One MongoDB per run (see test/global-setup.ts); every test file uses its own database.
    globalSetup: ['./test/global-setup.ts'],
  },
})
