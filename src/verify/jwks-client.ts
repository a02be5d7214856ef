import type { TokenRules } from '../services/tokens/access-token.js'
import { fetchOkJson, type FetchSettings } from './fetch-json.js'
import { createKeyVerifier, type KeyVerifier } from './key-verifier.js'
import type { VerifyLogger } from './options.js'

/** Freshness when the JWKS response says nothing (Tessera sends max-age=300). */
const DEFAULT_MAX_AGE = 300
/** Longest a JWKS is trusted without asking again, whatever its Cache-Control says. */
const MAX_MAX_AGE = 86400

export interface JwksClient {
  /** The verifier of a known kid, synchronously. A stale JWKS is refreshed in the background meanwhile. */
  known (kid: string): KeyVerifier | undefined
  /** For a kid not known yet: refetches the JWKS, at most once per cooldown, then looks again. */
  lookup (kid: string): Promise<KeyVerifier | undefined>
  /** Fetches the JWKS now unless a fetch is running (then waits for it). Never rejects: failures are logged. */
  refresh (): Promise<void>
}

interface Entry {
  verifier: KeyVerifier
  /** The JWK as published: an unchanged key keeps its verifier (and its cache) across refreshes. */
  source: string
}

/**
 * A JWKS cache built for a hot path and a hostile network: keys parsed once per kid; the document reused as
 * long as its Cache-Control allows; every fetch, whatever caused it, at most once per `cooldownMs` (so random
 * kids from an attacker cost one fetch per cooldown, not one per request); a failed fetch keeps the keys
 * already known working.
 */
export function createJwksClient ({ uri, rules, fetchSettings, cooldownMs, clock, log }: {
  uri: () => Promise<string>
  rules: TokenRules
  fetchSettings: FetchSettings
  cooldownMs: number
  clock: { now (): number }
  log: VerifyLogger
}): JwksClient {
  let keys = new Map<string, Entry>()
  let freshUntil = 0
  let lastAttempt = Number.NEGATIVE_INFINITY
  let running: Promise<void> | undefined
  let failing = false

  const coolingDown = () => clock.now() - lastAttempt < cooldownMs

  async function load () {
    const url = await uri()
    const { body, maxAge } = await fetchOkJson(url, fetchSettings)
    const published = (body as { keys?: unknown } | undefined)?.keys
    if (!Array.isArray(published)) throw new Error(`${url} is not a JWKS (no keys array)`)
    const next = new Map<string, Entry>()
    for (const jwk of published as Array<Record<string, unknown>>) {
      const source = JSON.stringify(jwk)
      const kid = typeof jwk?.['kid'] === 'string' ? jwk['kid'] : undefined
      const known = kid === undefined ? undefined : keys.get(kid)
      if (known?.source === source) {
        next.set(known.verifier.kid, known)
        continue
      }
      try {
        const verifier = createKeyVerifier(jwk, rules)
        next.set(verifier.kid, { verifier, source })
      } catch (error) {
        log.warn({ kid, reason: (error as Error).message }, 'ignoring a JWKS key that cannot verify tokens here')
      }
    }
    // A key no longer published is no longer trusted: retiring a key at Tessera reaches verifiers this way.
    keys = next
    freshUntil = clock.now() + Math.min(maxAge ?? DEFAULT_MAX_AGE, MAX_MAX_AGE) * 1000
    if (failing) log.info({ url, kids: [...keys.keys()] }, 'JWKS fetched again')
    failing = false
  }

  function refresh (): Promise<void> {
    running ??= (async () => {
      lastAttempt = clock.now()
      try {
        await load()
      } catch (error) {
        if (!failing) {
          log.warn({ err: error, reason: (error as Error).message, known: [...keys.keys()] }, 'JWKS fetch failed; keys already known keep working')
        }
        failing = true
      } finally {
        running = undefined
      }
    })()
    return running
  }

  return {
    known (kid) {
      const entry = keys.get(kid)
      if (clock.now() >= freshUntil && running === undefined && !coolingDown()) void refresh()
      return entry?.verifier
    },
    async lookup (kid) {
      if (running !== undefined) await running
      else if (!keys.has(kid) && !coolingDown()) await refresh()
      return keys.get(kid)?.verifier
    },
    refresh
  }
}
