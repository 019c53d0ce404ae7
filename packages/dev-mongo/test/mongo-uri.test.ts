import { describe, expect, it } from 'vitest'
import { databaseUri } from '../src/index.js'

describe('databaseUri', () => {
  it.each([
    ['mongodb://127.0.0.1:27017', 'mongodb://127.0.0.1:27017/app'],
    ['mongodb://127.0.0.1:27017/', 'mongodb://127.0.0.1:27017/app'],
    ['mongodb://127.0.0.1:27017/other', 'mongodb://127.0.0.1:27017/app'],
    [
      'mongodb://127.0.0.1:27017/?replicaSet=testset',
      'mongodb://127.0.0.1:27017/app?replicaSet=testset',
    ],
    [
      'mongodb://a:1,b:2/old?replicaSet=rs&w=majority',
      'mongodb://a:1,b:2/app?replicaSet=rs&w=majority',
    ],
    [
      'mongodb+srv://cluster.example.net/?retryWrites=true',
      'mongodb+srv://cluster.example.net/app?retryWrites=true',
    ],
  ])('puts the database into %s', (base, expected) => {
    expect(databaseUri(base, 'app')).toBe(expected)
  })

  it('keeps the database credentials authenticate against', () => {
    expect(databaseUri('mongodb://u:p@h:1/users', 'app')).toBe(
      'mongodb://u:p@h:1/app?authSource=users',
    )
    expect(databaseUri('mongodb://u:p@h:1', 'app')).toBe('mongodb://u:p@h:1/app?authSource=admin')
    expect(databaseUri('mongodb://u:p@h:1/x?authSource=y', 'app')).toBe(
      'mongodb://u:p@h:1/app?authSource=y',
    )
    expect(databaseUri('mongodb://u@h:1/x?authMechanism=MONGODB-X509', 'app')).toBe(
      'mongodb://u@h:1/app?authMechanism=MONGODB-X509',
    )
  })

  it('rejects names MongoDB would refuse, and non-MongoDB URIs', () => {
    for (const name of ['', 'a.b', 'a/b', 'a b', 'x'.repeat(64)]) {
      expect(() => databaseUri('mongodb://h:1', name)).toThrow(/invalid MongoDB database name/)
    }
    expect(() => databaseUri('postgres://u:secret@h/db', 'app')).toThrow(
      'not a MongoDB connection string: postgres://u:***@h/db',
    )
  })
})
