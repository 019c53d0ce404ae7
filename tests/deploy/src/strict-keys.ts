// kubernetes-models validates types and required fields but lets unknown fields through, which
// is how a typo such as `readinesProbe` ships unnoticed (the API server drops it). This walks
// each object alongside the model's TypeScript interface and reports every key it lacks.
import path from 'node:path'
import ts from 'typescript'
import { deployTestsDir } from './repo.js'
import { modelModule } from './kinds.js'

interface Checker {
  checker: ts.TypeChecker
  types: Map<string, ts.Type>
}

let cached: Checker | undefined
const entryFile = path.join(deployTestsDir, 'src', '__strict-keys-entry.ts')

function build(kinds: readonly (readonly [string, string])[]): Checker {
  const lines = kinds.map(
    ([apiVersion, kind], i) =>
      `import type { I${kind} as T${String(i)} } from '${modelModule(apiVersion, kind)}'\nexport type E${String(i)} = T${String(i)}`,
  )
  const source = lines.join('\n')
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  }
  const host = ts.createCompilerHost(options)
  const getSourceFile = host.getSourceFile.bind(host)
  const fileExists = host.fileExists.bind(host)
  host.getSourceFile = (file, lang, ...rest) =>
    file === entryFile
      ? ts.createSourceFile(file, source, lang, true)
      : getSourceFile(file, lang, ...rest)
  host.fileExists = (file) => file === entryFile || fileExists(file)
  const program = ts.createProgram([entryFile], options, host)
  const checker = program.getTypeChecker()
  const entry = program.getSourceFile(entryFile)
  if (!entry) throw new Error('strict-keys: entry file missing')
  const diagnostics = ts.getPreEmitDiagnostics(program, entry)
  if (diagnostics.length > 0) {
    throw new Error(
      `strict-keys: cannot load model types: ${ts.flattenDiagnosticMessageText(diagnostics[0]!.messageText, '\n')}`,
    )
  }
  const types = new Map<string, ts.Type>()
  const moduleSymbol = checker.getSymbolAtLocation(entry)
  if (!moduleSymbol) throw new Error('strict-keys: no module symbol')
  for (const [i, [apiVersion, kind]] of kinds.entries()) {
    const alias = checker.tryGetMemberInModuleExports(`E${String(i)}`, moduleSymbol)
    if (!alias) throw new Error(`strict-keys: no type for ${apiVersion} ${kind}`)
    types.set(`${apiVersion}/${kind}`, checker.getDeclaredTypeOfSymbol(alias))
  }
  return { checker, types }
}

function walk(c: Checker, value: unknown, type: ts.Type, at: string, errors: string[]): void {
  if (value === null || typeof value !== 'object') return
  const t = c.checker.getNonNullableType(type)
  if (t.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return
  if (t.isUnion()) {
    const objects = t.types.filter((m) => (m.flags & ts.TypeFlags.Object) !== 0)
    let best: string[] | undefined
    for (const member of objects) {
      const attempt: string[] = []
      walk(c, value, member, at, attempt)
      if (!best || attempt.length < best.length) best = attempt
    }
    errors.push(...(best ?? []))
    return
  }
  if (Array.isArray(value)) {
    const element = c.checker.getIndexTypeOfType(t, ts.IndexKind.Number)
    if (element) {
      value.forEach((v, i) => {
        walk(c, v, element, `${at}[${String(i)}]`, errors)
      })
    }
    return
  }
  const index = c.checker.getIndexTypeOfType(t, ts.IndexKind.String)
  for (const [key, v] of Object.entries(value)) {
    const prop = c.checker.getPropertyOfType(t, key)
    if (prop) {
      walk(c, v, c.checker.getTypeOfSymbol(prop), `${at}.${key}`, errors)
    } else if (index) {
      walk(c, v, index, `${at}.${key}`, errors)
    } else {
      errors.push(`${at}.${key}: unknown field`)
    }
  }
}

/** Unknown fields anywhere in the object, as paths; [] when every key is known. */
export function unknownFields(
  object: { apiVersion: string; kind: string },
  kinds: readonly (readonly [string, string])[],
): string[] {
  cached ??= build(kinds)
  const type = cached.types.get(`${object.apiVersion}/${object.kind}`)
  if (!type) {
    throw new Error(`strict-keys: ${object.apiVersion} ${object.kind} is not in the model registry`)
  }
  const errors: string[] = []
  walk(cached, object, type, object.kind, errors)
  return errors
}
