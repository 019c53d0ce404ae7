import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { databaseUri } from '@users-auth/dev-mongo'
import { exportJWK, generateKeyPair, type JWK } from 'jose'
import { startDevMailSink } from 'users-api/dev-mail-sink'
import { repoRoot, spawnService, waitFor200, type ServiceProcess } from './service-process.js'

/** What a test needs to know about a running pair; all plain data, so it can be provided. */
export interface PairInfo {
  usersUrl: string
  authUrl: string
  /** The pair's own database (connection string with the database name). */
  mongoUri: string
  /** The service credential both services were given. */
  credential: string
  /** The private JWK set auth-api signs with: the first key signs, all are published. */
  privateJwks: string
  issuer: string
  audience: string
  admin: { email: string; password: string }
}

export interface RunningPair extends PairInfo {
  users: ServiceProcess
  auth: ServiceProcess
  stop(): Promise<void>
}

export interface PairOptions {
  /** A MongoDB deployment; the pair gets a fresh database in it. */
  mongoBaseUri: string
  usersEnv?: Record<string, string>
  authEnv?: Record<string, string>
  /** Where both services' log lines are appended (for the secrets-in-logs checks). */
  logFile?: string
  /** Create an admin account with the operator's tool (`admin:create`). */
  withAdmin?: boolean
}

/** Every password the suite makes up carries this marker, so logs can be searched for it. */
export const secretMarker = 'Qx7-sekret'

export function newPassword(label = ''): string {
  return `${secretMarker} ${label} ${randomBytes(9).toString('base64url')} horse`
}

export function newEmail(label: string): string {
  return `${label}-${randomBytes(5).toString('hex')}@example.com`
}

async function privateJwk(alg: 'EdDSA' | 'ES256', kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}),
  })
  return { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' }
}

/**
 * auth-api and users-api as separate processes, configured only through the environment as in
 * production (`NODE_ENV=production`, a strong credential, configured signing keys), argon2 at
 * its cheapest, and a fresh database.
 */
export async function startPair(options: PairOptions): Promise<RunningPair> {
  const tag = randomBytes(4).toString('hex')
  const credential = randomBytes(32).toString('base64url')
  const privateJwks = JSON.stringify({
    keys: [await privateJwk('EdDSA', `sig-${tag}-ed`), await privateJwk('ES256', `sig-${tag}-ec`)],
  })
  const issuer = 'users-auth'
  const audience = 'users-auth'
  const mongoUri = databaseUri(options.mongoBaseUri, `security_${tag}`)
  const logFile = options.logFile
  // Production needs somewhere to deliver mail: a real SMTP server that takes it and says nothing.
  const mail = await startDevMailSink(() => undefined)
  const mailEnv = { SMTP_URL: mail.url, APP_URL: 'https://app.example.test' }
  const auth = await spawnService('auth-api', {
    env: {
      NODE_ENV: 'production',
      INTERNAL_API_TOKEN: credential,
      JWT_PRIVATE_KEYS: privateJwks,
      TOTP_ENCRYPTION_KEYS: `totp-${tag}:${randomBytes(32).toString('base64')}`,
      JWT_ISSUER: issuer,
      JWT_AUDIENCE: audience,
      ARGON2_MEMORY_KIB: '1024',
      ARGON2_ITERATIONS: '1',
      HASH_THREADS: '2',
      ...options.authEnv,
    },
    ...(logFile ? { logFile } : {}),
  })
  let users: ServiceProcess | undefined
  try {
    users = await spawnService('users-api', {
      env: {
        NODE_ENV: 'production',
        MONGODB_URI: mongoUri,
        AUTH_API_URL: auth.url,
        INTERNAL_API_TOKEN: credential,
        JWT_ISSUER: issuer,
        JWT_AUDIENCE: audience,
        ...mailEnv,
        ...options.usersEnv,
      },
      ...(logFile ? { logFile } : {}),
    })
    await Promise.all([waitFor200(`${auth.url}/readyz`), waitFor200(`${users.url}/readyz`)])
    const admin = { email: `admin-${tag}@example.com`, password: newPassword('admin') }
    if (options.withAdmin) {
      await createAdmin(admin, {
        MONGODB_URI: mongoUri,
        AUTH_API_URL: auth.url,
        credential,
        ...mailEnv,
      })
    }
    const running = users
    return {
      usersUrl: users.url,
      authUrl: auth.url,
      mongoUri,
      credential,
      privateJwks,
      issuer,
      audience,
      admin,
      users,
      auth,
      async stop() {
        await Promise.all([running.stop(), auth.stop()])
        await mail.close()
      },
    }
  } catch (error) {
    await Promise.all([users?.stop(), auth.stop()])
    await mail.close()
    throw error
  }
}

/** `pnpm --filter users-api admin:create --email …` with the password on stdin. */
async function createAdmin(
  admin: { email: string; password: string },
  env: {
    MONGODB_URI: string
    AUTH_API_URL: string
    credential: string
    SMTP_URL: string
    APP_URL: string
  },
): Promise<void> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=@users-auth/source',
      '--import',
      'tsx',
      'src/admin-create.ts',
      '--email',
      admin.email,
    ],
    {
      cwd: `${repoRoot}services/users-api`,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        NODE_ENV: 'production',
        MONGODB_URI: env.MONGODB_URI,
        AUTH_API_URL: env.AUTH_API_URL,
        INTERNAL_API_TOKEN: env.credential,
        SMTP_URL: env.SMTP_URL,
        APP_URL: env.APP_URL,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: 30_000,
    },
  )
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stdin.end(`${admin.password}\n`)
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  if (code !== 0) throw new Error(`admin:create failed (${String(code)}): ${output}`)
}
