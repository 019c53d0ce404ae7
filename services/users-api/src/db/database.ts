import { setTimeout as sleep } from 'node:timers/promises'
import mongoose, { MongooseError, type Connection, type Model, type mongo } from 'mongoose'
import { auditEventModel, type AuditEventModel } from './audit-event-model.js'
import { mailBudgetSlotModel, type MailBudgetSlotModel } from './mail-budget-model.js'
import { mailTokenModel, type MailTokenModel } from './mail-token-model.js'
import { outboxModel, type OutboxModel } from './outbox-model.js'
import { identityModel, type IdentityModel } from './identity-model.js'
import { noPrincipalStamps, type PrincipalStamps } from './principal-stamps.js'
import { oauthCodeModel, type OAuthCodeModel } from './oauth-code-model.js'
import { oauthStateModel, type OAuthStateModel } from './oauth-state-model.js'
import { mfaChallengeModel, type MfaChallengeModel } from './mfa-challenge-model.js'
import { mfaFactorModel, type MfaFactorModel } from './mfa-factor-model.js'
import { sessionModel, type SessionModel } from './session-model.js'
import { userModel, type UserModel } from './user-model.js'

export interface Database {
  users: UserModel
  sessions: SessionModel
  auditEvents: AuditEventModel
  mailTokens: MailTokenModel
  outbox: OutboxModel
  mailBudgetSlots: MailBudgetSlotModel
  identities: IdentityModel
  oauthStates: OAuthStateModel
  oauthCodes: OAuthCodeModel
  mfaFactors: MfaFactorModel
  mfaChallenges: MfaChallengeModel
  /** Marks every write to a user or a session makes, for replicas that cache principals. */
  principalStamps: PrincipalStamps
  /** Resolves once connected with every index in place; rejects otherwise. */
  ping(): Promise<void>
  close(): Promise<void>
}

export interface DatabaseOptions {
  uri: string
  /** Server selection bound: how fast a request learns that MongoDB is down. */
  timeoutMs: number
  onError?: (error: unknown) => void
  /** Shared with the other replicas (Redis); none: principals are never cached. */
  principalStamps?: PrincipalStamps
}

/**
 * Opens the connection and creates indexes in the background, retrying until MongoDB answers,
 * so the service starts (and serves /healthz) while MongoDB is away. Commands are never
 * buffered: while MongoDB is down a request fails fast instead of waiting.
 */
export function openDatabase(options: DatabaseOptions): Database {
  const connection: Connection = mongoose.createConnection()
  const users = userModel(connection)
  const sessions = sessionModel(connection)
  const auditEvents = auditEventModel(connection)
  const mailTokens = mailTokenModel(connection)
  const outbox = outboxModel(connection)
  const mailBudgetSlots = mailBudgetSlotModel(connection)
  const identities = identityModel(connection)
  const oauthStates = oauthStateModel(connection)
  const oauthCodes = oauthCodeModel(connection)
  const mfaFactors = mfaFactorModel(connection)
  const mfaChallenges = mfaChallengeModel(connection)
  // Collections whose documents expire: each has an `expiresAt` field with a TTL index.
  const expiring: Model<{ expiresAt: Date }>[] = [
    sessions,
    auditEvents,
    mailTokens,
    outbox,
    mailBudgetSlots,
    oauthStates,
    oauthCodes,
    mfaChallenges,
  ] as never[]
  // Mutated from the connect loop and close(); an object keeps both views of it honest.
  const state = { indexed: false, closed: false }

  const connect = async (): Promise<void> => {
    while (!state.closed) {
      try {
        await connection.openUri(options.uri, {
          serverSelectionTimeoutMS: options.timeoutMs,
          connectTimeoutMS: options.timeoutMs,
          socketTimeoutMS: 30_000,
          bufferCommands: false,
          autoIndex: false,
          autoCreate: false,
          maxPoolSize: 50,
          // Notice a MongoDB that came back within seconds, not the driver's default 10 s.
          heartbeatFrequencyMS: 2000,
        })
        await Promise.all(
          [users, identities, mfaFactors, ...expiring].map((model) => model.createCollection()),
        )
        await users.createIndexes()
        await identities.createIndexes()
        const expiry = await Promise.all(expiring.map(createExpiringIndexes))
        if (expiry.includes('sweep')) startSweep()
        state.indexed = true
        return
      } catch (error) {
        options.onError?.(error)
        await sleep(1000)
      }
    }
  }
  /**
   * A collection's indexes; on an engine without TTL indexes (FerretDB 1.x) the same indexes
   * without expiry, and expired documents are swept instead (reads already ignore them).
   */
  const createExpiringIndexes = async (
    model: Model<{ expiresAt: Date }>,
  ): Promise<'ttl' | 'sweep'> => {
    try {
      await model.createIndexes()
      return 'ttl'
    } catch (error) {
      if (!isTtlUnsupported(error)) throw error
      for (const [fields, indexOptions] of model.schema.indexes()) {
        const {
          expires: _expires,
          expireAfterSeconds: _ttl,
          ...rest
        } = indexOptions as Record<string, unknown>
        await model.db
          .collection(model.collection.collectionName)
          .createIndexes([{ ...rest, key: fields as Record<string, 1> }])
      }
      options.onError?.(
        new Error(
          `this MongoDB engine has no TTL indexes: expired ${model.collection.collectionName} are swept every 60 s`,
        ),
      )
      return 'sweep'
    }
  }
  let sweep: NodeJS.Timeout | undefined
  const startSweep = (): void => {
    if (sweep) return
    sweep = setInterval(() => {
      for (const model of expiring) {
        model
          .deleteMany({ expiresAt: { $lte: new Date() } })
          .exec()
          .catch((error: unknown) => options.onError?.(error))
      }
    }, 60_000)
    sweep.unref()
  }
  const connecting = connect()

  return {
    users,
    sessions,
    auditEvents,
    mailTokens,
    outbox,
    mailBudgetSlots,
    identities,
    oauthStates,
    oauthCodes,
    mfaFactors,
    mfaChallenges,
    principalStamps: options.principalStamps ?? noPrincipalStamps,
    async ping() {
      const db = connection.db
      if (!state.indexed || !db) throw new Error('MongoDB not connected yet')
      await db.command({ ping: 1 })
    },
    async close() {
      state.closed = true
      clearInterval(sweep)
      await connection.close()
      await connecting
    },
  }
}

const unavailableNames = new Set([
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
  'MongoExpiredSessionError',
])

// By driver Db (a reconnect may bring a new one), then by collection name.
const driverCollections = new WeakMap<mongo.Db, Map<string, mongo.Collection>>()

/**
 * The driver's own collection behind a model, for the hot paths (login, signup, refresh, the
 * authenticated request): mongoose's query, document and casting layers were a quarter of
 * those requests' CPU. Callers write complete documents of the model's shape themselves.
 */
export function driverCollection<T extends mongo.Document>(model: Model<T>): mongo.Collection<T> {
  const db = model.db.db
  // The same refusal mongoose gives before the first connection (a 503, not a 500).
  if (!db) throw new MongooseError('Connection not connected yet')
  let byName = driverCollections.get(db)
  if (!byName) driverCollections.set(db, (byName = new Map<string, mongo.Collection>()))
  const name = model.collection.collectionName
  let collection = byName.get(name)
  if (!collection) byName.set(name, (collection = db.collection(name)))
  return collection as unknown as mongo.Collection<T>
}

/** True for driver errors that mean "MongoDB cannot be reached", as opposed to a bad query. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  if (unavailableNames.has(error.name)) return true
  // Mongoose refuses commands before the first connection when buffering is off.
  return (
    error.name === 'MongooseError' &&
    /initial connection|not connected|buffering/i.test(error.message)
  )
}

/** The engine refuses TTL indexes (code 238 NotImplemented on `expireAfterSeconds`). */
function isTtlUnsupported(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown }
  return code === 238 && typeof message === 'string' && message.includes('expireAfterSeconds')
}

export function isDuplicateKey(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 11000
}
