import { defineProject } from 'vitest/config'
import { sourceConditions } from '../../scripts/vitest-shared.js'

export default defineProject({
  ...sourceConditions,
  test: { name: 'auth-api' },
})
