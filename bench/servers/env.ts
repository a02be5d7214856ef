import { readFileSync } from 'node:fs'

/** What every comparison server reads: the same port rules, key, algorithm, issuer and audience as Tessera. */
export function serverEnv () {
  const need = (name: string): string => {
    const value = process.env[name]
    if (value === undefined || value === '') throw new Error(`${name} is required`)
    return value
  }
  return {
    port: Number(need('PORT')),
    host: process.env['HOST'] ?? '127.0.0.1',
    publicPem: process.env['PUBLIC_KEY_FILE'] ? readFileSync(need('PUBLIC_KEY_FILE'), 'utf8') : '',
    alg: process.env['JWT_ALG'] ?? 'ES256',
    issuer: process.env['AUTH_ISSUER'] ?? '',
    audience: process.env['AUTH_AUDIENCE'] ?? ''
  }
}

/** The user object of /auth/me, built from verified claims the way Tessera builds it. */
export function userFromClaims (claims: { sub?: unknown, username?: unknown, roles?: unknown }) {
  return { id: claims.sub as string, username: claims.username as string, roles: claims.roles as string[] }
}
