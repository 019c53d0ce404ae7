import { defineConfig } from 'vitest/config'
import { sourceConditions } from './scripts/vitest-shared.js'

// One run over every workspace member; each project resolves workspace packages to their
// TypeScript sources through the same export condition that tsc and tsx use.
export default defineConfig({
  // Global setup files load through the root config, so it needs the condition too.
  ...sourceConditions,
  test: {
    projects: ['packages/*', 'services/*', 'tests/*', 'bench'],
    reporters: ['default', './scripts/summary-reporter.ts'],
  },
})
