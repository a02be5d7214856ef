// Type comes from typebox itself everywhere, and @fastify/type-provider-typebox only as types: the provider's runtime
// entry also loads TypeBox's compiler, value and format modules and ajv-formats (about 300 more ES modules, 5-7 MiB of
// idle RSS) for a validator compiler this app does not use (Fastify's Ajv validates the schemas).
import { Type, type Static } from 'typebox'

export const ErrorResponse = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String({ description: 'Stable, upper-case cause; branch on this, not on message' }),
  error: Type.String(),
  message: Type.String()
}, { $id: 'ErrorResponse', description: 'Every error has this shape' })

export const User = Type.Object({
  id: Type.String({ format: 'uuid' }),
  username: Type.String(),
  roles: Type.Array(Type.String())
}, { $id: 'User' })
export type UserView = Static<typeof User>

export const UserEnvelope = Type.Object({ user: Type.Ref('User') })

/** RFC 6749 §5.1 shaped, plus the user so the app needs no second call. */
export const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer({ description: 'Seconds until access_token expires' }),
  refresh_token: Type.String(),
  refresh_expires_in: Type.Integer({ description: 'Seconds until the session ends, whatever the rotations' }),
  user: Type.Ref('User'),
  password_change_recommended: Type.Optional(Type.Literal(true, {
    description: 'Login only, and only when true: the password just used would be refused as a new password today ' +
      '(shorter than PASSWORD_MIN_LENGTH, among the most common passwords, or containing the username); ask the user to change it'
  }))
}, { $id: 'TokenResponse' })

/** Usernames: 3-64 characters, letters, digits and . _ - @ (so an e-mail address works). */
export const Username = Type.String({ minLength: 3, maxLength: 64, pattern: '^[\\p{L}\\p{N}._@-]+$' })

/** NIST SP 800-63B §5.1.1.2: at least 8, allow long passphrases; 1024 caps the cost of hashing hostile input. */
export const Password = Type.String({ minLength: 8, maxLength: 1024 })

/**
 * A password being set. Its minimum (PASSWORD_MIN_LENGTH), the common-password list and the username rule are
 * checked by the password policy, so every refusal has its own code: PASSWORD_TOO_SHORT, PASSWORD_TOO_COMMON,
 * PASSWORD_CONTAINS_USERNAME (400).
 */
export const NewPassword = Type.String({
  maxLength: 1024,
  description: 'At least PASSWORD_MIN_LENGTH (default 8) characters, not a common password, not containing the username'
})

/** Response schemas for the error statuses a route can answer with. */
export function errors (...statuses: number[]) {
  return Object.fromEntries(statuses.map((status) => [status, Type.Ref('ErrorResponse')]))
}
