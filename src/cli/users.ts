import { randomUUID } from 'node:crypto'
import type { Config } from '../config.js'
import { defaultBlocklistFile, loadBlocklist } from '../services/passwords/blocklist.js'
import { createPasswordHasher } from '../services/passwords/hasher.js'
import { createPasswordPolicy } from '../services/passwords/policy.js'
import { endAllSessions } from '../services/sessions/end-all.js'
import type { Store } from '../store/types.js'
import { UsernameTakenError } from '../store/types.js'
import { CommandError, formatTime, noExtraArgs, readPassword, table, UsageError, type Output } from './io.js'

export const usersHelp = `Usage: npm run cli -- users <command> [options]

Commands:
  add <username> [--role <role>]...     create a user (default role: user); the password is asked
                                        for, or read from stdin when it is a pipe
  list                                  every user with roles and state
  disable <username>                    refuse their logins and end their sessions
  enable <username>                     allow logins again
  set-roles <username> <role>...        replace the roles (effective at the next token)
  reset-password <username>             set a new password (asked for, or read from stdin);
                                        every session of the user ends

Add --json for machine-readable output.`

const USERNAME = /^[\p{L}\p{N}._@-]{3,64}$/u
const ROLE = /^[A-Za-z0-9:._-]{1,64}$/

/** The same rule for `add --role` and `set-roles`: a role that set-roles refuses must not get in through add. */
function checkRoles (roles: string[]) {
  if (!roles.every((role) => ROLE.test(role))) throw new UsageError('roles are 1-64 letters, digits or : . _ -')
}

/** The same policy as the HTTP API: an admin is no exception to NIST SP 800-63B. */
async function checkPassword (config: Config, password: string, username: string) {
  if (password.length > 1024) throw new CommandError('the password must have at most 1024 characters')
  const blocklist = await loadBlocklist(config.passwordBlocklist ?? defaultBlocklistFile())
  const policy = createPasswordPolicy({ minLength: config.passwordMinLength, blocklist })
  const problem = policy.problem(password, username)
  if (problem) throw new CommandError(`${problem}: ${policy.describe(problem)}`)
}

export async function usersCommand (config: Config, store: Store, args: string[], options: { role?: string[] }, out: Output) {
  const [command, ...rest] = args
  const now = Date.now()
  const find = async (username: string | undefined) => {
    if (!username) throw new UsageError(`users ${command ?? ''} needs a username`)
    const user = await store.users.findByUsername(username)
    if (!user) throw new CommandError(`no user named ${username}`)
    return user
  }
  const hash = async (password: string, username: string) => {
    await checkPassword(config, password, username)
    const hasher = await createPasswordHasher({ params: config.argon2, concurrency: 1, queueLimit: 1 })
    return await hasher.hash(password)
  }

  switch (command) {
    case 'add': {
      const username = rest[0]
      if (!username || !USERNAME.test(username)) throw new UsageError('users add needs a username of 3-64 letters, digits or . _ @ -')
      noExtraArgs(rest, 1, 'users add <username> [--role <role>]...')
      const roles = options.role && options.role.length > 0 ? [...new Set(options.role)] : ['user']
      checkRoles(roles)
      // Checked before the prompt, so nobody types a password for a name that cannot be created (the unique index still decides races).
      if (await store.users.findByUsername(username)) throw new CommandError(`username ${username} is taken`)
      const passwordHash = await hash(await readPassword(`Password for ${username}`), username)
      try {
        const user = await store.users.create({ id: randomUUID(), username, passwordHash, roles, now })
        out.result({ user }, `created ${user.username} (${user.id}) with roles ${roles.join(', ')}`)
      } catch (error) {
        if (error instanceof UsernameTakenError) throw new CommandError(`username ${username} is taken`)
        throw error
      }
      return
    }
    case 'list': {
      noExtraArgs(rest, 0, 'users list')
      const users = await store.users.list()
      out.result({
        users: users.map((u) => ({ id: u.id, username: u.username, roles: u.roles, disabled: u.disabledAt !== null, createdAt: formatTime(u.createdAt) }))
      }, table([['USERNAME', 'ID', 'ROLES', 'STATE', 'CREATED'], ...users.map((u) => [u.username, u.id, u.roles.join(','), u.disabledAt === null ? 'active' : 'disabled', formatTime(u.createdAt)])]))
      return
    }
    case 'disable': {
      noExtraArgs(rest, 1, 'users disable <username>')
      const user = await find(rest[0])
      await store.users.setDisabled(user.id, true, now)
      const ended = await endAllSessions(store, { userId: user.id, reason: 'user-disabled', now, tokenLifetime: config.accessTokenTtl + config.clockSkew })
      out.result({ username: user.username, disabled: true, sessionsEnded: ended.length }, `disabled ${user.username}; ${ended.length} session(s) ended`)
      return
    }
    case 'enable': {
      noExtraArgs(rest, 1, 'users enable <username>')
      const user = await find(rest[0])
      await store.users.setDisabled(user.id, false, now)
      out.result({ username: user.username, disabled: false }, `enabled ${user.username}`)
      return
    }
    case 'set-roles': {
      // Usage first: a malformed command is exit 2 whether or not the user exists.
      const roles = [...new Set(rest.slice(1))]
      if (roles.length === 0) throw new UsageError('users set-roles needs a username and at least one role')
      checkRoles(roles)
      const user = await find(rest[0])
      await store.users.setRoles(user.id, roles, now)
      out.result({ username: user.username, roles }, `${user.username} now has roles ${roles.join(', ')}`)
      return
    }
    case 'reset-password': {
      noExtraArgs(rest, 1, 'users reset-password <username>')
      const user = await find(rest[0])
      await store.users.setPasswordHash(user.id, await hash(await readPassword(`New password for ${user.username}`), user.username), now)
      const ended = await endAllSessions(store, { userId: user.id, reason: 'password-reset', now, tokenLifetime: config.accessTokenTtl + config.clockSkew })
      out.result({ username: user.username, sessionsEnded: ended.length }, `password of ${user.username} reset; ${ended.length} session(s) ended`)
      return
    }
    default:
      throw new UsageError(command ? `unknown users command "${command}"` : 'users needs a command')
  }
}
