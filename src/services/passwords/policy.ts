import { AppError } from '../../errors.js'
import { usernameKey } from '../../store/kysely-store.js'
import { codePointLength, type Blocklist } from './blocklist.js'

export type PasswordProblem = 'PASSWORD_TOO_SHORT' | 'PASSWORD_CONTAINS_USERNAME' | 'PASSWORD_TOO_COMMON'

export interface PasswordPolicy {
  readonly minLength: number
  /** The first rule `password` breaks for the account `username`, or undefined when it is acceptable. */
  problem (password: string, username: string): PasswordProblem | undefined
  /** Throws 400 with the stable code of the first rule a new password breaks. */
  enforce (password: string, username: string): void
  /** What to tell a person about `problem`. */
  describe (problem: PasswordProblem): string
}

/**
 * NIST SP 800-63B (rev. 3 §5.1.1.2, rev. 4 §3.1.1.2) and OWASP ASVS v4.0.3 2.1.1, 2.1.7, 2.1.9: a minimum length,
 * no composition rules, and no password from a list of commonly used or compromised ones, nor one built on the
 * account's own name (a "context-specific word").
 * Applies to new passwords only; existing ones keep logging in (see `password_change_recommended` at login).
 */
export function createPasswordPolicy ({ minLength, blocklist }: { minLength: number, blocklist: Blocklist }): PasswordPolicy {
  const messages: Record<PasswordProblem, string> = {
    PASSWORD_TOO_SHORT: `The password must have at least ${minLength} characters`,
    PASSWORD_CONTAINS_USERNAME: 'The password must not contain the username',
    PASSWORD_TOO_COMMON: 'The password is too common; choose one that is not on lists of leaked passwords'
  }

  function problem (password: string, username: string): PasswordProblem | undefined {
    if (codePointLength(password) < minLength) return 'PASSWORD_TOO_SHORT'
    // Same folding as usernames (NFKC, lower case), so "ALICE2024!" contains the username "alice".
    if (usernameKey(password).includes(usernameKey(username))) return 'PASSWORD_CONTAINS_USERNAME'
    if (blocklist.has(password)) return 'PASSWORD_TOO_COMMON'
    return undefined
  }

  return {
    minLength,
    problem,
    enforce (password, username) {
      const found = problem(password, username)
      if (found) throw new AppError(found, messages[found], { reason: `new password refused: ${found}` })
    },
    describe: (found) => messages[found]
  }
}
