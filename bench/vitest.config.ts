import { defineProject } from 'vitest/config'
import { sourceConditions } from '../scripts/vitest-shared.js'

// The bench's own unit tests (pure helpers only; the bench itself is run with `pnpm bench`).
export default defineProject({
  ...sourceConditions,
  test: { name: 'bench', include: ['test/**/*.test.ts'] },
})
