import { MongoClient, type Db } from 'mongodb'
import { client, type Client } from './http.js'
import { newEmail, newPassword, type PairInfo } from './pair.js'

export interface User {
  id: string
  email: string
  name: string
  roles: string[]
  createdAt: string
  updatedAt: string
}

export interface Session {
  user: User
  accessToken: string
  refreshToken: string
  tokenType: string
  expiresIn: number
}

export interface Account {
  email: string
  password: string
  session: Session
}

/** The public API of users-api as a client sees it, plus the suite's account helpers. */
export function usersApi(pair: PairInfo) {
  const api: Client = client(pair.usersUrl)

  async function signup(label: string, password = newPassword(label)): Promise<Account> {
    const email = newEmail(label)
    const res = await api.post('/v1/auth/signup', { email, password })
    if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${res.text}`)
    return { email, password, session: res.json<Session>() }
  }

  async function login(email: string, password: string): Promise<Session> {
    const res = await api.post('/v1/auth/login', { email, password })
    if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`)
    return res.json<Session>()
  }

  async function refresh(refreshToken: string): Promise<Session> {
    const res = await api.post('/v1/auth/refresh', { refreshToken })
    if (res.status !== 200) throw new Error(`refresh failed: ${res.status} ${res.text}`)
    return res.json<Session>()
  }

  /** An access token of the admin created with `admin:create` at start-up. */
  async function adminToken(): Promise<string> {
    return (await login(pair.admin.email, pair.admin.password)).accessToken
  }

  return { ...api, signup, login, refresh, adminToken }
}

export type UsersApi = ReturnType<typeof usersApi>

/** A direct connection to the pair's database, to check what was (not) stored. */
export async function openDb(pair: PairInfo): Promise<{ db: Db; close: () => Promise<void> }> {
  const mongo = await new MongoClient(pair.mongoUri, { serverSelectionTimeoutMS: 5000 }).connect()
  return { db: mongo.db(), close: () => mongo.close() }
}
