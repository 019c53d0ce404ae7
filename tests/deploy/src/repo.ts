import { fileURLToPath } from 'node:url'
import path from 'node:path'

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
export const deployTestsDir = path.join(repoRoot, 'tests/deploy')
export const chartDir = path.join(repoRoot, 'charts/users-auth')

export const fromRoot = (...parts: string[]): string => path.join(repoRoot, ...parts)
