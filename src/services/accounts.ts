import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { Clock } from '../clock.js'
import { AppError } from '../errors.js'
import { usernameKey } from '../store/kysely-store.js'
import { UsernameTakenError, type Store, type User } from '../store/types.js'
import type { PasswordHasher } from './passwords/hasher.js'
import type { PasswordPolicy } from './passwords/policy.js'
import type { Sessions, TokenResponse } from './sessions/sessions.js'
import type { LoginThrottle } from './throttle/login-throttle.js'

/** A login's tokens; the flag is there only when the password used breaks today's policy for new passwords. */
export type LoginResponse = TokenResponse & { password_change_recommended?: true }

export interface Accounts {
  register (username: string, password: string, roles?: string[]): Promise<User>
  login (username: string, password: string, address: string): Promise<LoginResponse>
  changePassword (userId: string, currentPassword: string, newPassword: string, address: string): Promise<void>
}

const invalidCredentials = (reason: string) =>
  new AppError('INVALID_CREDENTIALS', 'Invalid username or password', { reason })

export function createAccounts ({ store, hasher, policy, sessions, throttle, clock, log }: {
  store: Store
  hasher: PasswordHasher
  policy: PasswordPolicy
  sessions: Sessions
  throttle: LoginThrottle
  clock: Clock
  log: FastifyBaseLogger
}): Accounts {
  async function verifyCredentials (username: string, password: string) {
    const user = await store.users.findByUsername(username)
    // Unknown users are verified against a dummy hash: same work, same answer, same timing.
    return { user, ...await hasher.verify(user?.passwordHash, password) }
  }

  return {
    async register (username, password, roles = ['user']) {
      policy.enforce(password, username)
      // Cheap check first, so a taken name does not cost a hash; the unique index still decides races.
      if (await store.users.findByUsername(username)) throw new AppError('USERNAME_TAKEN', 'That username is taken')
      const passwordHash = await hasher.hash(password)
      try {
        const user = await store.users.create({ id: randomUUID(), username, passwordHash, roles, now: clock.now() })
        log.info({ event: 'user_registered', userId: user.id }, 'user registered')
        return user
      } catch (error) {
        if (error instanceof UsernameTakenError) throw new AppError('USERNAME_TAKEN', 'That username is taken')
        throw error
      }
    },

    async login (username, password, address) {
      const account = usernameKey(username)
      // The attempt counts as a failure from here on, so parallel guesses cannot outrun the limit.
      await throttle.begin(account, address)
      const { user, ok, needsRehash } = await verifyCredentials(username, password).catch(async (error: unknown) => {
        await throttle.release(account, address).catch((releaseError: unknown) => log.warn({ err: releaseError }, 'could not release a login attempt'))
        throw error
      })
      if (!user || !ok || user.disabledAt !== null) {
        const reason = !user ? 'unknown user' : !ok ? 'wrong password' : 'user disabled'
        log.info({ event: 'login_failed', reason, userId: user?.id, address }, 'login failed')
        throw invalidCredentials(reason)
      }
      await throttle.recordSuccess(account, address)
      if (needsRehash) {
        // Upgrade a hash made with older (weaker) parameters while the password is at hand.
        const passwordHash = await hasher.hash(password)
        await store.users.setPasswordHash(user.id, passwordHash, clock.now())
        log.info({ event: 'password_rehashed', userId: user.id }, 'password hash upgraded to current parameters')
      }
      const response = await sessions.start(user)
      // Refusing a login over a password that was acceptable when it was set would lock people out; telling the
      // client lets it ask for a change (OWASP ASVS v4 2.1.7 applies to new passwords).
      const weak = policy.problem(password, user.username)
      log.info({ event: 'login_succeeded', userId: user.id, address, ...(weak ? { passwordChangeRecommended: weak } : {}) }, 'login succeeded')
      return weak ? { ...response, password_change_recommended: true } : response
    },

    async changePassword (userId, currentPassword, newPassword, address) {
      const user = await store.users.findById(userId)
      if (!user) throw invalidCredentials('user is gone')
      policy.enforce(newPassword, user.username)
      // A stolen access token must not become an unthrottled password oracle: the current password is a login
      // attempt and counts against the same per-account and per-address limits.
      const account = usernameKey(user.username)
      await throttle.begin(account, address)
      const { ok } = await hasher.verify(user.passwordHash, currentPassword).catch(async (error: unknown) => {
        await throttle.release(account, address).catch((releaseError: unknown) => log.warn({ err: releaseError }, 'could not release a login attempt'))
        throw error
      })
      if (!ok) {
        log.info({ event: 'password_change_failed', userId: user.id, address }, 'password change refused: wrong current password')
        throw invalidCredentials('wrong current password')
      }
      await throttle.recordSuccess(account, address)
      await store.users.setPasswordHash(user.id, await hasher.hash(newPassword), clock.now())
      await sessions.endAll(user.id, 'password-change')
      log.info({ event: 'password_changed', userId: user.id }, 'password changed; all sessions ended')
    }
  }
}
