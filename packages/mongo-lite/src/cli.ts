import { parseArgs } from 'node:util'
import { start } from './server.js'

// `pnpm mongo [--port N] [--host H] [--ttl-sweep-ms N]`: runs the server in the foreground.

const USAGE = `Usage: mongo-lite [--port 27017] [--host 127.0.0.1] [--ttl-sweep-ms 60000]
An in-memory MongoDB-speaking server for tests and offline runs. Data is lost on exit.
`

function integer(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined
  const parsed = Number(value)
  if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`${flag} must be a whole number`)
  return parsed
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      'ttl-sweep-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    process.stdout.write(USAGE)
    return
  }
  const server = await start({
    port: integer(values.port, '--port') ?? 27017,
    host: values.host,
    ttlSweepMs: integer(values['ttl-sweep-ms'], '--ttl-sweep-ms'),
  })
  process.stdout.write(`mongo-lite listening at ${server.uri} (in memory; data is lost on exit)\n`)

  const shutdown = (signal: string): void => {
    process.stdout.write(`mongo-lite: ${signal}, stopping\n`)
    server.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGINT', shutdown)
  process.once('SIGTERM', shutdown)
}

main().catch((error: unknown) => {
  process.stderr.write(
    `mongo-lite: ${error instanceof Error ? error.message : String(error)}\n${USAGE}`,
  )
  process.exit(1)
})
