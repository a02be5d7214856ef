import { claimProblem, isExpired, toAuthUser, type AuthUser } from '../services/tokens/access-token.js'
import { createEndpoints } from './endpoints.js'
import { invalidToken, MESSAGES, VerifyError } from './errors.js'
import { createJwksClient } from './jwks-client.js'
import type { KeyVerifier } from './key-verifier.js'
import { settingsFrom, type VerifierOptions } from './options.js'
import { createRevocationPoller, type RevocationPoller } from './revocation-poller.js'
import { tokenKid } from './token-header.js'

export interface Verifier {
  /** Resolves with the user of a valid token; rejects with a VerifyError (401) for every kind of failure. */
  verify (token: unknown): Promise<AuthUser>
  /** Loads the keys (and the first revocation list) ahead of the first request. Never rejects. */
  ready (): Promise<void>
  /** Stops polling and aborts fetches in flight. */
  close (): void
}

/**
 * Verifies Tessera access tokens in another service, with Tessera's own rules (services/tokens/access-token.ts)
 * and without calling Tessera per request. Options are checked here, once; a bad one throws.
 */
export function createVerifier (options: VerifierOptions): Verifier {
  const settings = settingsFrom(options)
  const { rules, clock, logger: log } = settings
  const closing = new AbortController()
  const fetchSettings = { fetch: settings.fetch, timeoutMs: settings.timeoutMs, signal: closing.signal }
  const endpoints = createEndpoints({
    issuer: settings.issuer,
    jwksUri: settings.jwksUri,
    revocationsUri: settings.revocations?.url,
    fetchSettings
  })
  const jwks = createJwksClient({ uri: endpoints.jwks, rules, fetchSettings, cooldownMs: settings.cooldownMs, clock, log })
  const revocations: RevocationPoller | undefined = settings.revocations && createRevocationPoller({
    url: endpoints.revocations,
    intervalMs: settings.revocations.intervalMs,
    failClosed: settings.revocations.failClosed,
    maxRetainMs: (rules.maxLifetime + rules.clockSkew) * 1000,
    fetchSettings,
    clock,
    log
  })
  let started: Promise<void> | undefined
  let revocationsReady = revocations === undefined

  function ready () {
    started ??= Promise.all([jwks.refresh(), revocations?.ready()]).then(() => { revocationsReady = true })
    return started
  }

  /** Everything after the key is known: synchronous, allocation-light, the same on every request. */
  function check (key: KeyVerifier, token: string): AuthUser {
    let payload: Record<string, unknown>
    try {
      payload = key.verify(token)
    } catch (error) {
      const { code, message } = error as { code?: string, message?: string }
      throw invalidToken(`${code ?? 'error'}: ${message ?? ''}`)
    }
    // The same claim checks, on the same clock, as Tessera's hook (expiry included: see verifierOptions).
    const now = clock.now()
    const problem = claimProblem(payload, rules, now)
    if (problem !== undefined) throw invalidToken(problem)
    if (isExpired(payload, rules, now)) throw new VerifyError('TOKEN_EXPIRED', MESSAGES.expired, 'exp is in the past')
    const user = toAuthUser(payload)
    const revoked = revocations?.check(user)
    if (revoked !== undefined) throw invalidToken(revoked, MESSAGES.revoked)
    return user
  }

  async function verifySlow (token: unknown, kid: string): Promise<AuthUser> {
    await ready()
    const key = jwks.known(kid) ?? await jwks.lookup(kid)
    if (key === undefined) throw invalidToken(`unknown kid ${JSON.stringify(kid.slice(0, 64))}`)
    return check(key, token as string)
  }

  return {
    verify (token) {
      try {
        const kid = tokenKid(token)
        const key = revocationsReady ? jwks.known(kid) : undefined
        // The fast path: a known key is used at once, without waiting on anything.
        if (key !== undefined) return Promise.resolve(check(key, token as string))
        return verifySlow(token, kid)
      } catch (error) {
        return Promise.reject(error)
      }
    },
    ready,
    close () {
      closing.abort()
      revocations?.close()
    }
  }
}
