/**
 * Every error a client can see has a stable upper-case `code` and a fixed HTTP status.
 * Clients branch on `code`; `message` is for humans and may change.
 */
export const ERRORS = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  PASSWORD_TOO_SHORT: 400,
  PASSWORD_CONTAINS_USERNAME: 400,
  PASSWORD_TOO_COMMON: 400,
  INVALID_JSON: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  BODY_TOO_LARGE: 413,
  INVALID_CREDENTIALS: 401,
  TOKEN_MISSING: 401,
  TOKEN_INVALID: 401,
  TOKEN_EXPIRED: 401,
  REFRESH_TOKEN_INVALID: 401,
  REGISTRATION_CLOSED: 403,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  USERNAME_TAKEN: 409,
  TOO_MANY_REQUESTS: 429,
  INTERNAL_ERROR: 500,
  STORE_UNAVAILABLE: 503,
  SERVER_BUSY: 503,
  NOT_READY: 503
} as const

export type ErrorCode = keyof typeof ERRORS

export interface AppErrorOptions {
  /** Seconds, sent as Retry-After on 429 and 503. */
  retryAfter?: number
  /** Logged, never sent: the internal reason behind a client-facing code. */
  reason?: string
  cause?: unknown
}

export class AppError extends Error {
  readonly code: ErrorCode
  readonly statusCode: number
  readonly retryAfter: number | undefined
  readonly reason: string | undefined

  constructor (code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'AppError'
    this.code = code
    this.statusCode = ERRORS[code]
    this.retryAfter = options.retryAfter
    this.reason = options.reason
  }
}

export const isAppError = (error: unknown): error is AppError => error instanceof AppError
