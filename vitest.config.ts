import { defineConfig } from 'vitest/config'

// One run over every workspace member; each project resolves workspace packages to their
// TypeScript sources through the same export condition that tsc and tsx use.
export default defineConfig({
  test: {
    projects: ['packages/*', 'services/*', 'tests/*'],
    reporters: ['default', './scripts/summary-reporter.ts'],
  },
})
