import { MongoClient, type Db } from 'mongodb'
import createClient from 'openapi-fetch'
import type { components, paths } from './generated/users-api.js'
import { client, type Client } from './http.js'
import { newEmail, newPassword, type PairInfo } from './pair.js'

// The shapes as users-api's OpenAPI document names them.
export type Session = components['schemas']['Session']

export interface Account {
  email: string
  password: string
  session: Session
}

/**
 * The public API of users-api as a client sees it: well-formed calls go through the client
 * generated from its OpenAPI document (so the document is what the suite relies on), attacks
 * through the raw `client`, plus the suite's account helpers.
 */
export function usersApi(pair: PairInfo) {
  const api: Client = client(pair.usersUrl)
  const typed = createClient<paths>({ baseUrl: pair.usersUrl })

  function expect<T>(
    what: string,
    status: number,
    result: { data?: T; error?: unknown; response: globalThis.Response },
  ): T {
    if (result.response.status !== status || result.data === undefined) {
      throw new Error(`${what} failed: ${result.response.status} ${JSON.stringify(result.error)}`)
    }
    return result.data
  }

  async function signup(label: string, password = newPassword(label)): Promise<Account> {
    const email = newEmail(label)
    const result = await typed.POST('/v1/auth/signup', { body: { email, password } })
    const session = expect('signup', 201, result)
    // Without REQUIRE_EMAIL_VERIFICATION (as here) signup starts a session.
    if (!('accessToken' in session)) throw new Error('signup answered without a session')
    return { email, password, session }
  }

  async function login(email: string, password: string): Promise<Session> {
    return expect('login', 200, await typed.POST('/v1/auth/login', { body: { email, password } }))
  }

  async function refresh(refreshToken: string): Promise<Session> {
    return expect('refresh', 200, await typed.POST('/v1/auth/refresh', { body: { refreshToken } }))
  }

  /** An access token of the admin created with `admin:create` at start-up. */
  async function adminToken(): Promise<string> {
    return (await login(pair.admin.email, pair.admin.password)).accessToken
  }

  return { ...api, typed, signup, login, refresh, adminToken }
}

export type UsersApi = ReturnType<typeof usersApi>

/** A direct connection to the pair's database, to check what was (not) stored. */
export async function openDb(pair: PairInfo): Promise<{ db: Db; close: () => Promise<void> }> {
  const mongo = await new MongoClient(pair.mongoUri, { serverSelectionTimeoutMS: 5000 }).connect()
  return { db: mongo.db(), close: () => mongo.close() }
}
