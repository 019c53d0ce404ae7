// deploy/nginx/default.conf.template and how the nginx image renders it: its entrypoint runs
// envsubst over the templates in /etc/nginx/templates, replacing the variables its environment
// defines and leaving every other $name (nginx's own variables) as it is.
import { readFileSync } from 'node:fs'
import { fromRoot } from '../src/repo.js'

export const nginxDir = fromRoot('deploy/nginx')
export const nginxTemplate = readFileSync(fromRoot('deploy/nginx/default.conf.template'), 'utf8')

/** The placeholders a template leaves to the environment: upper-case ${NAME}s. */
export function templateVariables(text: string): string[] {
  return [...new Set([...text.matchAll(/\$\{([A-Z][A-Z0-9_]*)\}/g)].map((m) => m[1]!))].sort()
}

/** envsubst over the given names only; fails if a placeholder is left unfilled. */
export function renderTemplate(text: string, values: Record<string, string>): string {
  const rendered = text.replace(
    /\$(?:\{(\w+)\}|(\w+))/g,
    (whole, braced?: string, bare?: string) => values[(braced ?? bare)!] ?? whole,
  )
  const left = templateVariables(rendered)
  if (left.length) throw new Error(`template placeholders left unfilled: ${left.join(', ')}`)
  return rendered
}
