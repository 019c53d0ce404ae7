import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { MongoClient } from 'mongodb'
import { expect, it } from 'vitest'

const packageDir = fileURLToPath(new URL('..', import.meta.url))

it('serves from the command line and stops cleanly on SIGTERM', async () => {
  // The same runner as the package's `serve` script, with an ephemeral port.
  const child = spawn(
    process.execPath,
    ['--conditions=@users-auth/source', '--import', 'tsx', 'src/cli.ts', '--port', '0'],
    { cwd: packageDir, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  let output = ''
  const uri = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const found = /mongodb:\/\/127\.0\.0\.1:\d+/.exec(output)
      if (found) resolve(found[0])
    })
    child.once('exit', (code) => {
      reject(new Error(`exited early with ${String(code)}: ${output}`))
    })
  })
  expect(output).toMatch(/^mongo-lite listening at mongodb:\/\/127\.0\.0\.1:\d+/)

  const client = await new MongoClient(uri).connect()
  expect(await client.db('admin').command({ ping: 1 })).toEqual({ ok: 1 })
  await client.close()

  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  expect(await exited).toEqual([0, null])
}, 20_000)
