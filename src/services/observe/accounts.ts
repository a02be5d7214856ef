import { isAppError } from '../../errors.js'
import type { Accounts } from '../accounts.js'
import type { LoginOutcome, ServiceEvents } from '../events.js'

function loginOutcome (error: unknown): LoginOutcome {
  if (!isAppError(error)) return 'error'
  return error.code === 'INVALID_CREDENTIALS' ? 'invalid' : error.code === 'TOO_MANY_REQUESTS' ? 'throttled' : 'error'
}

/** Reports each login's outcome; results and errors pass through untouched. */
export function observeAccounts (accounts: Accounts, events: ServiceEvents): Accounts {
  return {
    register: async (username, password, roles) => await accounts.register(username, password, roles),
    changePassword: async (userId, current, next, address) => await accounts.changePassword(userId, current, next, address),
    async login (username, password, address) {
      try {
        const tokens = await accounts.login(username, password, address)
        events.login('success')
        return tokens
      } catch (error) {
        events.login(loginOutcome(error))
        throw error
      }
    }
  }
}
