import { defineProject } from 'vitest/config'
import { sourceConditions } from '../../scripts/vitest-shared.js'

export default defineProject({
  ...sourceConditions,
  test: {
    name: 'users-api',
    // One MongoDB per run, resolved by the workspace (MONGODB_URI, mongod, else mongo-lite);
    // every test file works in a database of its own.
    globalSetup: ['../../packages/dev-mongo/test/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
})
