export {
  resolveMongo,
  type MongoBackend,
  type ResolvedMongo,
  type ResolveOptions,
} from './resolve-mongo.js'
export { databaseUri, redactUri } from './mongo-uri.js'
