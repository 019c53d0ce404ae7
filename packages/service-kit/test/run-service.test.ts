import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

/** Starts the fixture, sends SIGTERM once it listens; its steps, log messages and exit code. */
async function shutDown(mode: string) {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      fileURLToPath(new URL('fixtures/graceful-child.ts', import.meta.url)),
      mode,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  // A child that never listens is not left behind.
  const stuck = setTimeout(() => child.kill('SIGKILL'), 20_000)
  let out = ''
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (chunk: string) => {
    out += chunk
    if (chunk.includes('listening')) child.kill('SIGTERM')
  })
  const [code] = (await once(child, 'exit')) as [number | null]
  clearTimeout(stuck)
  const lines = out.split('\n').filter(Boolean)
  return {
    steps: lines.filter((line) => !line.startsWith('{')),
    logs: lines
      .filter((line) => line.startsWith('{'))
      .map((line) => (JSON.parse(line) as { msg: string }).msg),
    code,
  }
}

describe('listenWithGracefulShutdown', () => {
  it('runs afterClose once the app has finished closing, then exits 0', async () => {
    const { steps, code } = await shutDown('ok')
    expect(steps).toEqual(['listening', 'app closed', 'after close'])
    expect(code).toBe(0)
  }, 30_000)

  it('still runs afterClose when the app could not close, and exits 1', async () => {
    const { steps, code } = await shutDown('close-fails')
    expect(steps).toEqual(['listening', 'app closed', 'after close'])
    expect(code).toBe(1)
  }, 30_000)

  it('logs a failing afterClose and still exits 0', async () => {
    const { steps, logs, code } = await shutDown('after-fails')
    expect(steps).toEqual(['listening', 'app closed', 'after close'])
    expect(logs).toContain('the work after close failed')
    expect(code).toBe(0)
  }, 30_000)

  it('stops waiting for an afterClose that never ends, and exits 0', async () => {
    const { logs, code } = await shutDown('after-hangs')
    expect(logs).toContain('gave up waiting for the work after close')
    expect(code).toBe(0)
  }, 30_000)
})
