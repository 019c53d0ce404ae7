// MongoDB's own error codes and names, so drivers classify our errors exactly as a real
// server's (mongoose maps 11000, the driver swallows 26 on drop, and so on).
export const ErrorCode = {
  InternalError: 1,
  BadValue: 2,
  FailedToParse: 9,
  TypeMismatch: 14,
  IllegalOperation: 20,
  NamespaceNotFound: 26,
  IndexNotFound: 27,
  CursorNotFound: 43,
  NamespaceExists: 48,
  CommandNotFound: 59,
  ImmutableField: 66,
  InvalidOptions: 72,
  InvalidNamespace: 73,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  NoSuchTransaction: 251,
  UnsupportedOpQueryCommand: 352,
  DuplicateKey: 11000,
} as const

export type ErrorCodeName = keyof typeof ErrorCode

/** A command failure that is sent back as `{ok: 0, errmsg, code, codeName}`. */
export class CommandError extends Error {
  readonly code: number

  constructor(
    readonly codeName: ErrorCodeName,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message)
    this.code = ErrorCode[codeName]
  }

  toReply(): Record<string, unknown> {
    return { ok: 0, errmsg: this.message, code: this.code, codeName: this.codeName, ...this.extra }
  }
}

/** Runs a mingo call, turning its exceptions into the error codes mongod uses for them. */
export function mingo<T>(call: () => T): T {
  try {
    return call()
  } catch (error) {
    if (error instanceof CommandError) throw error
    const message = error instanceof Error ? error.message : String(error)
    if (message.includes('immutable field')) throw new CommandError('ImmutableField', message)
    const unknown = /Unknown update operator: '(\$\w+)'/.exec(message)
    if (unknown) {
      throw new CommandError(
        'FailedToParse',
        `Unknown modifier: ${unknown[1] ?? ''}. Expected a valid update modifier or pipeline-style update specified as an array`,
      )
    }
    throw new CommandError('BadValue', message)
  }
}
