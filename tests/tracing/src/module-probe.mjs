// Preloaded with `--import` into a service under test: appends the URL of every module the
// service's ESM loader resolves to $MODULE_PROBE_FILE, so a test can tell what was loaded.
import { register } from 'node:module'
import process from 'node:process'

const file = process.env.MODULE_PROBE_FILE
if (file) {
  const hooks = `
    import { appendFileSync } from 'node:fs'
    export async function resolve(specifier, context, next) {
      const resolved = await next(specifier, context)
      appendFileSync(${JSON.stringify(file)}, resolved.url + '\\n')
      return resolved
    }
  `
  register(`data:text/javascript,${encodeURIComponent(hooks)}`)
}
