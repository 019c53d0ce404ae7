import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createAuthApi } from 'auth-api/create'
import { createUsersApi } from 'users-api/create'

// `pnpm openapi` writes both services' OpenAPI documents to openapi/ (what Spectral lints and
// client generators read); `pnpm openapi --check` fails when the committed ones have drifted.
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } })

const quiet = { LOG_LEVEL: 'silent', NODE_ENV: 'development' }
const auth = await createAuthApi(quiet)
// Building the app is all it takes; nothing connects or listens (an unreachable MongoDB URI).
const users = await createUsersApi({ ...quiet, MONGODB_URI: 'mongodb://127.0.0.1:1/openapi' })

let drifted = false
for (const [name, app] of [
  ['users-api', users.app],
  ['auth-api', auth.app],
] as const) {
  await app.ready()
  const text = `${JSON.stringify(app.swagger(), null, 2)}\n`
  const file = join(root, 'openapi', `${name}.json`)
  if (values.check) {
    const committed = await readFile(file, 'utf8').catch(() => '')
    if (committed !== text) {
      process.stderr.write(`openapi/${name}.json is out of date: run pnpm openapi\n`)
      drifted = true
    }
  } else {
    await mkdir(dirname(file), { recursive: true })
    await writeFile(file, text)
  }
  await app.close()
}
process.exit(drifted ? 1 : 0)
