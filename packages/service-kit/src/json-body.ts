import type { FastifyInstance } from 'fastify'
import { problemError } from './problem-error.js'

const RepeatedField = problemError(
  'VALIDATION_FAILED',
  'The request body names a field more than once.',
)

interface Frame {
  /** Keys seen so far; null for an array. */
  keys: Set<string> | null
  path: string
  /** The key or index of the value being read in this container. */
  at: string
  expectKey: boolean
  index: number
}

const pointerPart = (key: string) => key.replaceAll('~', '~0').replaceAll('/', '~1')

/**
 * The JSON Pointer of the first key that an object repeats, or undefined. JSON.parse keeps
 * the last of two equal keys silently, so `{"password":"a","password":"b"}` would mean
 * whatever a proxy, a WAF or a log reader thought it meant; we refuse it instead. Invalid
 * JSON is left to the parser.
 */
export function repeatedKeyPath(text: string): string | undefined {
  const stack: Frame[] = []
  const open = (keys: Set<string> | null): void => {
    const top = stack.at(-1)
    const path = top ? `${top.path}/${top.at}` : ''
    stack.push({ keys, path, at: '', expectKey: keys !== null, index: 0 })
  }
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '"') {
      let end = i + 1
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1
      const top = stack.at(-1)
      if (top?.keys && top.expectKey) {
        let key: string
        try {
          key = JSON.parse(text.slice(i, end + 1)) as string
        } catch {
          return undefined
        }
        if (top.keys.has(key)) return `${top.path}/${pointerPart(key)}`
        top.keys.add(key)
        top.at = pointerPart(key)
        top.expectKey = false
      }
      i = end
    } else if (c === '{') {
      open(new Set())
    } else if (c === '[') {
      open(null)
      const top = stack.at(-1)
      if (top) top.at = '0'
    } else if (c === '}' || c === ']') {
      stack.pop()
    } else if (c === ',') {
      const top = stack.at(-1)
      if (top?.keys) top.expectKey = true
      else if (top) top.at = String(++top.index)
    }
  }
  return undefined
}

/**
 * JSON bodies as Fastify parses them (prototype poisoning refused, empty and malformed bodies
 * rejected), plus a 400 for repeated keys.
 */
export function registerStrictJson(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8')
    const path = repeatedKeyPath(text)
    if (path !== undefined) {
      done(
        Object.assign(new RepeatedField(), {
          errors: [{ path, message: 'appears more than once' }],
        }),
        undefined,
      )
      return
    }
    // The default parser answers through `done`; its return value carries nothing.
    void parseJson(request, text, done)
  })
}
