export {
  resolveMongo,
  type MongoBackend,
  type ResolvedMongo,
  type ResolveOptions,
} from './resolve-mongo.js'
export { databaseUri } from './mongo-uri.js'
