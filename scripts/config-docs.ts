import { readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { EnvSchema as authApiEnv } from '../services/auth-api/src/config.js'
import { EnvSchema as usersApiEnv } from '../services/users-api/src/config.js'

// The README's configuration tables, generated from the services' own env schemas so the two
// cannot drift: `pnpm docs:config` rewrites them, `pnpm docs:config --check` (in `pnpm lint`)
// fails when the README is behind.
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const readme = join(root, 'README.md')
const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } })

interface Documented {
  description?: string
  default?: string | number | boolean
  minimum?: number
  maximum?: number
  anyOf?: { const?: string }[]
}

const shared = new Set(['NODE_ENV', 'PORT', 'HOST', 'LOG_LEVEL'])

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ')
}

function defaultOf(schema: Documented): string {
  if (schema.default === undefined) return 'unset'
  return `\`${String(schema.default)}\``
}

function rangeOf(schema: Documented): string {
  const choices = schema.anyOf?.map((s) => s.const).filter((c) => c !== undefined)
  if (choices && choices.length > 0) return ` One of ${choices.map((c) => `\`${c}\``).join(', ')}.`
  if (schema.minimum !== undefined && schema.maximum !== undefined)
    return ` ${String(schema.minimum)}–${String(schema.maximum)}.`
  if (schema.minimum !== undefined) return ` At least ${String(schema.minimum)}.`
  return ''
}

interface EnvObject {
  properties: Record<string, Documented>
}

function table(schema: EnvObject, skip: Set<string>): string {
  const rows = Object.entries(schema.properties)
    .filter(([name]) => !skip.has(name))
    .map(([name, field]) => {
      if (!field.description) throw new Error(`${name} has no description in its env schema`)
      return `| \`${name}\` | ${cell(defaultOf(field))} | ${cell(field.description + rangeOf(field))} |`
    })
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n')
}

const sections: Record<string, string> = {
  both: table(
    {
      properties: Object.fromEntries(
        Object.entries(usersApiEnv.properties as EnvObject['properties']).filter(([n]) =>
          shared.has(n),
        ),
      ),
    },
    new Set(),
  ),
  'users-api': table(usersApiEnv as EnvObject, shared),
  'auth-api': table(authApiEnv as EnvObject, shared),
}

let text = await readFile(readme, 'utf8')
for (const [name, body] of Object.entries(sections)) {
  const start = `<!-- config:${name}:start -->`
  const end = `<!-- config:${name}:end -->`
  const from = text.indexOf(start)
  const to = text.indexOf(end)
  if (from < 0 || to < from) throw new Error(`README.md lacks the ${start} … ${end} markers`)
  text = `${text.slice(0, from + start.length)}\n${body}\n${text.slice(to)}`
}
if (values.check) {
  if (text !== (await readFile(readme, 'utf8'))) {
    process.stderr.write('README.md configuration tables are out of date: run pnpm docs:config\n')
    process.exit(1)
  }
} else {
  await writeFile(readme, text)
}
