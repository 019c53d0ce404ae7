export {
  AuthApiBusyError,
  AuthApiClient,
  AuthApiRejectedError,
  AuthApiUnavailableError,
  type AuthApiClientOptions,
  type CallContext,
} from './auth-api-client.js'
export * from './schemas.js'
