// Connection-string helpers that work on multi-host and mongodb+srv URIs too, which
// WHATWG URL parsing does not handle.

const URI = /^(mongodb(?:\+srv)?:\/\/)([^/?]*)(\/[^?]*)?(?:\?(.*))?$/
const INVALID_DB_NAME = /[/\\. "$*<>:|?\0]/

/**
 * The same deployment and options, with `dbName` as the database in the path. When the URI
 * carries credentials, the database they authenticate against is kept as `authSource`
 * (the path database doubles as the default authSource, so it must not silently change).
 */
export function databaseUri(baseUri: string, dbName: string): string {
  const match = URI.exec(baseUri)
  if (!match) throw new Error(`not a MongoDB connection string: ${redactUri(baseUri)}`)
  if (dbName.length === 0 || Buffer.byteLength(dbName) > 63 || INVALID_DB_NAME.test(dbName)) {
    throw new Error(`invalid MongoDB database name: ${JSON.stringify(dbName)}`)
  }
  const [, scheme = '', authority = '', path = '', query = ''] = match
  const params = query.split('&').filter((param) => param.length > 0)
  const mechanism = params.find((param) => param.startsWith('authMechanism='))
  const usesPathAuthSource = mechanism === undefined || mechanism.includes('SCRAM')
  if (authority.includes('@') && usesPathAuthSource && !params.some(isAuthSource)) {
    const current = decodeURIComponent(path.slice(1))
    params.push(`authSource=${encodeURIComponent(current || 'admin')}`)
  }
  const search = params.length > 0 ? `?${params.join('&')}` : ''
  return `${scheme}${authority}/${encodeURIComponent(dbName)}${search}`
}

function isAuthSource(param: string): boolean {
  return param.startsWith('authSource=')
}

/** The URI with any password replaced, fit for logs. */
export function redactUri(uri: string): string {
  return uri.replace(/^([a-z+]+:\/\/[^:@/?]*):[^@/?]*@/i, '$1:***@')
}
