import { MongoClient } from 'mongodb'

// Where an engine is known to differ from MongoDB, per feature. A test of such a feature does
// not skip quietly: where the engine refuses, the test asserts that refusal (so it notices
// when the engine gains the feature); where the engine silently does something else, the test
// is skipped with the reason in its name. The README's "MongoDB compatibility" table says the
// same for people.

/** The server software behind the URI under test. */
export type Engine = 'mongo-lite' | 'mongod-replset' | 'mongod-standalone' | 'ferretdb'

/** An error the engine answers instead of doing what MongoDB does. */
export interface Refusal {
  refused: { code: number; codeName: string }
  why: string
}
/** A silent difference: the command succeeds but does something else. */
export interface Divergence {
  diverges: string
}
export type Gap = Refusal | Divergence

export type Feature =
  | 'transactions'
  | 'ttlIndex'
  | 'ttlMonitorSetting'
  | 'partialIndex'
  | 'collation'
  | 'findAndModifyProjection'
  | 'arrayFilters'
  | 'positionalUpdate'
  | 'pushSlice'
  | 'pipelineUpdate'
  | 'lookup'
  | 'missingFieldAsNull'
  | 'duplicateKeyDetails'
  | 'duplicateKeyOnUpdate'
  | 'uniqueIndexOverDuplicates'

const notImplemented = { code: 238, codeName: 'NotImplemented' }

export const knownGaps: Record<Engine, Partial<Record<Feature, Gap>>> = {
  'mongo-lite': {},
  'mongod-replset': {},
  'mongod-standalone': {
    transactions: {
      refused: { code: 20, codeName: 'IllegalOperation' },
      why: 'a standalone mongod runs no transactions (GitHub CI uses one)',
    },
  },
  // FerretDB 1.24 on PostgreSQL, as measured by this suite.
  ferretdb: {
    transactions: {
      refused: { code: 9, codeName: 'FailedToParse' },
      why: 'a write inside a transaction is refused (unknown field "autocommit"); commitTransaction is CommandNotFound',
    },
    ttlIndex: {
      refused: notImplemented,
      why: 'index option expireAfterSeconds is not implemented',
    },
    ttlMonitorSetting: {
      refused: { code: 59, codeName: 'CommandNotFound' },
      why: 'no setParameter command',
    },
    partialIndex: {
      refused: notImplemented,
      why: 'index option partialFilterExpression is not implemented',
    },
    collation: { refused: notImplemented, why: 'collation is not implemented' },
    findAndModifyProjection: {
      refused: notImplemented,
      why: 'findAndModify with fields (a projection) is not implemented',
    },
    arrayFilters: { refused: notImplemented, why: 'arrayFilters are not implemented' },
    positionalUpdate: {
      diverges: 'an update through the positional $ operator changes nothing',
    },
    pushSlice: {
      diverges: '$push ignores $slice: the array keeps every element',
    },
    pipelineUpdate: {
      refused: { code: 14, codeName: 'TypeMismatch' },
      why: 'updates with an aggregation pipeline are not implemented',
    },
    lookup: { refused: notImplemented, why: 'the $lookup stage is not implemented' },
    missingFieldAsNull: {
      diverges:
        'a unique index admits many documents lacking the field (PostgreSQL NULLs are distinct)',
    },
    duplicateKeyDetails: {
      diverges:
        'duplicate-key errors carry no keyPattern or keyValue, and the message names neither index nor key',
    },
    duplicateKeyOnUpdate: {
      refused: { code: 1, codeName: 'InternalError' },
      why: "an update or findAndModify that breaks a unique index fails with PostgreSQL's error, not code 11000",
    },
    uniqueIndexOverDuplicates: {
      refused: { code: 1, codeName: 'InternalError' },
      why: "building a unique index over duplicates fails with PostgreSQL's error, not code 11000",
    },
  },
}

/** What the engine does instead, in a few words. */
export function gapReason(gap: Gap): string {
  return 'diverges' in gap ? gap.diverges : gap.why
}

/**
 * Asks the server what it is: FerretDB names its version in buildInfo, mongo-lite in
 * gitVersion; a mongod in a replica set names the set in hello.
 */
export async function detectEngine(uri: string): Promise<Engine> {
  const client = await new MongoClient(uri).connect()
  try {
    const admin = client.db('admin')
    const info = await admin.command({ buildInfo: 1 })
    if ('ferretdbVersion' in info) return 'ferretdb'
    if (info.gitVersion === 'mongo-lite') return 'mongo-lite'
    const hello = await admin.command({ hello: 1 })
    return 'setName' in hello || hello.msg === 'isdbgrid' ? 'mongod-replset' : 'mongod-standalone'
  } finally {
    await client.close()
  }
}
