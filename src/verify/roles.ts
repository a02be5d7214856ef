import type { AuthUser } from '../services/tokens/access-token.js'

/** Checked when the route is declared, so a typo such as `requireRole()` fails at start-up, not per request. */
export function rolesFrom (roles: readonly string[]): ReadonlySet<string> {
  if (roles.length === 0 || !roles.every((role) => typeof role === 'string' && role !== '')) {
    throw new TypeError('requireRole needs one or more non-empty role names')
  }
  return new Set(roles)
}

/** Any one of the wanted roles is enough. */
export function roleProblem (user: AuthUser | null | undefined, wanted: ReadonlySet<string>): string | undefined {
  if (user === null || user === undefined) return 'no user'
  if (user.roles.some((role) => wanted.has(role))) return undefined
  return `needs one of ${[...wanted].join(', ')}; has ${user.roles.join(', ') || 'none'}`
}
