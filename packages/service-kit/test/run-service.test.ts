import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

describe('listenWithGracefulShutdown', () => {
  it('runs afterClose once the app has finished closing, then exits 0', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('fixtures/graceful-child.ts', import.meta.url))],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    let out = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => {
      out += chunk
      if (chunk.includes('listening')) child.kill('SIGTERM')
    })
    const [code] = (await once(child, 'exit')) as [number | null]
    expect(out.split('\n').filter(Boolean)).toEqual(['listening', 'app closed', 'after close'])
    expect(code).toBe(0)
  })
})
