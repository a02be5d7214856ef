export type VerifyErrorCode = 'TOKEN_MISSING' | 'TOKEN_INVALID' | 'TOKEN_EXPIRED' | 'FORBIDDEN'

/** The same codes and statuses as Tessera's own API (src/errors.ts), so a client handles both alike. */
const STATUS: Readonly<Record<VerifyErrorCode, 401 | 403>> = {
  TOKEN_MISSING: 401,
  TOKEN_INVALID: 401,
  TOKEN_EXPIRED: 401,
  FORBIDDEN: 403
}

export const MESSAGES = {
  missing: 'An access token is required',
  invalid: 'The access token is invalid',
  expired: 'The access token has expired',
  revoked: 'The access token has been revoked',
  forbidden: 'The access token does not carry a required role'
} as const

/** Every failure of the kit. `message` is safe to send; `reason` (the library's detail) is for the log only. */
export class VerifyError extends Error {
  readonly code: VerifyErrorCode
  readonly statusCode: 401 | 403
  readonly reason: string | undefined

  constructor (code: VerifyErrorCode, message: string, reason?: string) {
    super(message)
    this.name = 'VerifyError'
    this.code = code
    this.statusCode = STATUS[code]
    this.reason = reason
  }
}

export const invalidToken = (reason: string, message: string = MESSAGES.invalid) => new VerifyError('TOKEN_INVALID', message, reason)
