import { defineConfig } from 'vitest/config'

// The bench's own unit tests (pure helpers only; the bench itself is run with `pnpm bench`).
export default defineConfig({
  test: { include: ['test/**/*.test.ts'] },
})
