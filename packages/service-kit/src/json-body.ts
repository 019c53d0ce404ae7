import { errorCodes, type FastifyInstance } from 'fastify'
import { parse as parseLeniently, printParseErrorCode, type ParseError } from 'jsonc-parser'
import { problemError, type ValidationIssue } from './problem-error.js'

const RepeatedField = problemError(
  'VALIDATION_FAILED',
  'The request body names a field more than once.',
)
const NotJson = problemError('VALIDATION_FAILED', 'The request body is not valid JSON.')
const NestedTooDeep = problemError('VALIDATION_FAILED', 'The request body nests too deeply.')

// jsonc-parser's error names (its codes are a const enum), in words.
const syntaxErrors: Record<string, string> = {
  InvalidSymbol: 'unexpected character',
  InvalidNumberFormat: 'malformed number',
  PropertyNameExpected: 'expected a property name in double quotes',
  ValueExpected: 'expected a value',
  ColonExpected: "expected ':'",
  CommaExpected: "expected ',' or the end of the object or array",
  CloseBraceExpected: "expected '}'",
  CloseBracketExpected: "expected ']'",
  EndOfFileExpected: 'unexpected content after the JSON value',
  InvalidCommentToken: 'comments are not JSON',
  UnexpectedEndOfComment: 'comments are not JSON',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'malformed number',
  InvalidUnicode: 'malformed \\u escape',
  InvalidEscapeCharacter: 'malformed escape sequence',
  InvalidCharacter: 'control character in a string',
}

/**
 * Where and why a body that JSON.parse refused is not JSON. JSON.parse's own messages quote the
 * body (which may hold a password) and often give no position, so the position comes from a
 * tolerant parser run on the failure path only; the answer names the place, never the text.
 */
export function jsonSyntaxIssue(text: string): ValidationIssue {
  const errors: ParseError[] = []
  try {
    parseLeniently(text, errors, {
      disallowComments: true,
      allowTrailingComma: false,
      allowEmptyContent: false,
    })
  } catch {
    // The parser recurses; the depth bound keeps it shallow, and this keeps it a 400 anyway.
    return { path: '', message: 'is not valid JSON' }
  }
  const first = errors[0]
  // Valid syntax that the parser still refused: a prototype-poisoning key.
  if (!first) return { path: '', message: 'contains a __proto__ or constructor.prototype key' }
  const before = text.slice(0, first.offset)
  const line = before.split('\n').length
  const column = first.offset - before.lastIndexOf('\n')
  const reason = syntaxErrors[printParseErrorCode(first.error)] ?? 'malformed'
  return {
    path: '',
    message: `is not valid JSON: ${reason} at line ${line}, column ${column} (offset ${first.offset})`,
  }
}

interface Frame {
  /** Keys seen so far; null for an array. */
  keys: Set<string> | null
  path: string
  /** The key or index of the value being read in this container. */
  at: string
  expectKey: boolean
  index: number
}

/** A JSON Pointer reference token (RFC 6901): `~` and `/` escaped. */
export const pointerPart = (key: string) => key.replaceAll('~', '~0').replaceAll('/', '~1')

/**
 * Deeper than any body the contract defines. Refused before any parser runs: recursive parsers
 * (the position finder below) overflow their stack on thousands of levels, and every level
 * lengthens the paths this scan keeps.
 */
export const maxJsonDepth = 32

type StructureProblem = { repeated: string } | { tooDeep: true }

/**
 * The JSON Pointer of the first key that an object repeats, or undefined. JSON.parse keeps
 * the last of two equal keys silently, so `{"password":"a","password":"b"}` would mean
 * whatever a proxy, a WAF or a log reader thought it meant; we refuse it instead. Invalid
 * JSON is left to the parser.
 */
export function repeatedKeyPath(text: string): string | undefined {
  const problem = structureProblem(text)
  return problem && 'repeated' in problem ? problem.repeated : undefined
}

/** One linear pass: the first repeated key, or nesting past `maxJsonDepth`. */
function structureProblem(text: string): StructureProblem | undefined {
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
        if (top.keys.has(key)) return { repeated: `${top.path}/${pointerPart(key)}` }
        top.keys.add(key)
        top.at = pointerPart(key)
        top.expectKey = false
      }
      i = end
    } else if (c === '{' || c === '[') {
      if (stack.length >= maxJsonDepth) return { tooDeep: true }
      if (c === '{') open(new Set())
      else {
        open(null)
        const top = stack.at(-1)
        if (top) top.at = '0'
      }
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
    // A body sent to no route (404, 405) is never read: the per-IP budget has not been spent.
    if (request.is404) {
      done(null, undefined)
      return
    }
    const text = typeof body === 'string' ? body : body.toString('utf8')
    const problem = structureProblem(text)
    if (problem && 'repeated' in problem) {
      done(
        Object.assign(new RepeatedField(), {
          errors: [{ path: problem.repeated, message: 'appears more than once' }],
        }),
        undefined,
      )
      return
    }
    if (problem) {
      done(
        Object.assign(new NestedTooDeep(), {
          errors: [{ path: '', message: `nests deeper than ${String(maxJsonDepth)} levels` }],
        }),
        undefined,
      )
      return
    }
    // The default parser answers through `done`; its return value carries nothing.
    void parseJson(request, text, (error, value) => {
      if (error instanceof errorCodes.FST_ERR_CTP_INVALID_JSON_BODY) {
        done(Object.assign(new NotJson(), { errors: [jsonSyntaxIssue(text)] }), undefined)
        return
      }
      done(error, value)
    })
  })
}
