import type { Algorithm } from '../config.js'
import type { TokenRules } from '../services/tokens/access-token.js'

/** Asymmetric only: an HMAC or `none` algorithm can never be configured, whatever a token or a JWKS says. */
export const SUPPORTED_ALGORITHMS: readonly Algorithm[] = ['ES256', 'EdDSA', 'RS256']

/** A pino-style logger (`log.warn(object, message)`); Fastify's `app.log` fits. */
export interface VerifyLogger {
  debug? (object: object, message: string): void
  info (object: object, message: string): void
  warn (object: object, message: string): void
  error (object: object, message: string): void
}

export interface RevocationOptions {
  /** Seconds between polls of the feed (fractions allowed). Default 15. */
  interval?: number
  /** While the feed cannot be fetched: keep the last list (default) or refuse every token with a 401. */
  onUnavailable?: 'keep' | 'fail-closed'
  /** Default: `revocation_feed_endpoint` from discovery, else `${issuer}/auth/revocations`. */
  url?: string
}

export interface VerifierOptions {
  /** Exactly the `iss` of the tokens, e.g. `https://auth.example.com` (a trailing slash is ignored). */
  issuer: string
  audience: string
  /** Default: `jwks_uri` from `${issuer}/.well-known/openid-configuration`. */
  jwksUri?: string
  /** Accepted algorithms; each key is further pinned to its own `alg`. Default: ES256, EdDSA and RS256. */
  algorithms?: Algorithm[]
  /** Seconds of leeway for exp, nbf and iat. Default 30, like Tessera. */
  clockSkew?: number
  /** Seconds; tokens claiming a longer life are refused. Default 86400; set it to Tessera's ACCESS_TOKEN_TTL. */
  maxLifetime?: number
  /** Follow Tessera's revocation feed. Off by default. `true` means `{ interval: 15, onUnavailable: 'keep' }`. */
  revocations?: boolean | RevocationOptions
  /** Seconds any one fetch (discovery, JWKS, feed) may take. Default 5. */
  timeout?: number
  /** Seconds between two JWKS fetches caused by unknown kids or failures. Default 30. */
  cooldown?: number
  /** Default: warnings and errors to the console. */
  logger?: VerifyLogger
  /** Default: the global fetch. */
  fetch?: typeof fetch
  /** Time source (ms) for caches, cooldowns and revocation retention; fast-jwt checks `exp` against the real time. */
  clock?: { now (): number }
}

export interface Settings {
  issuer: string
  jwksUri: string | undefined
  rules: TokenRules
  timeoutMs: number
  cooldownMs: number
  revocations: { intervalMs: number, failClosed: boolean, url: string | undefined } | undefined
  logger: VerifyLogger
  fetch: typeof fetch
  clock: { now (): number }
}

/** Options are checked once, when the verifier is made, so a bad configuration stops the start (like fast-jwt). */
export class VerifierOptionsError extends TypeError {
  readonly problems: readonly string[]
  constructor (problems: string[]) {
    super(`Invalid tessera/verify options:\n  - ${problems.join('\n  - ')}`)
    this.name = 'VerifierOptionsError'
    this.problems = problems
  }
}

const consoleLogger: VerifyLogger = {
  info () {},
  warn (object, message) { console.warn(`tessera/verify: ${message}`, object) },
  error (object, message) { console.error(`tessera/verify: ${message}`, object) }
}

export function settingsFrom (options: VerifierOptions): Settings {
  const problems: string[] = []
  const url = (name: string, value: unknown): string | undefined => {
    if (value === undefined) return undefined
    if (typeof value !== 'string' || !isHttpUrl(value)) {
      problems.push(`${name} must be an http(s) URL`)
      return undefined
    }
    return value
  }
  const seconds = (name: string, value: unknown, fallback: number, min: number, max: number): number => {
    if (value === undefined) return fallback
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      problems.push(`${name} must be a number of seconds from ${min} to ${max}`)
      return fallback
    }
    return value
  }

  const issuer = (url('issuer', options.issuer) ?? '').replace(/\/+$/, '')
  if (options.issuer === undefined) problems.push('issuer is required')
  if (typeof options.audience !== 'string' || options.audience === '') problems.push('audience must be a non-empty string')
  const algorithms = options.algorithms ?? SUPPORTED_ALGORITHMS
  if (!Array.isArray(algorithms) || algorithms.length === 0 || !algorithms.every((alg) => SUPPORTED_ALGORITHMS.includes(alg))) {
    problems.push(`algorithms must be a non-empty list of ${SUPPORTED_ALGORITHMS.join(', ')}`)
  }
  const clockSkew = seconds('clockSkew', options.clockSkew, 30, 0, 300)
  const maxLifetime = seconds('maxLifetime', options.maxLifetime, 86400, 1, 31 * 86400)
  const timeout = seconds('timeout', options.timeout, 5, 0.001, 120)
  const cooldown = seconds('cooldown', options.cooldown, 30, 0, 86400)

  let revocations: Settings['revocations']
  if (options.revocations !== undefined && options.revocations !== false) {
    const given = options.revocations === true ? {} : options.revocations
    const mode = given.onUnavailable ?? 'keep'
    if (mode !== 'keep' && mode !== 'fail-closed') problems.push('revocations.onUnavailable must be "keep" or "fail-closed"')
    revocations = {
      intervalMs: seconds('revocations.interval', given.interval, 15, 0.01, 3600) * 1000,
      failClosed: mode === 'fail-closed',
      url: url('revocations.url', given.url)
    }
  }

  const fetchImpl = options.fetch ?? globalThis.fetch
  if (typeof fetchImpl !== 'function') problems.push('no fetch: use Node 18+ or pass options.fetch')
  const jwksUri = url('jwksUri', options.jwksUri)
  if (problems.length > 0) throw new VerifierOptionsError(problems)

  return {
    issuer,
    jwksUri,
    rules: { issuer, audience: options.audience, algorithms: [...algorithms], clockSkew, maxLifetime },
    timeoutMs: timeout * 1000,
    cooldownMs: cooldown * 1000,
    revocations,
    logger: options.logger ?? consoleLogger,
    fetch: fetchImpl,
    clock: options.clock ?? { now: () => Date.now() }
  }
}

function isHttpUrl (value: string): boolean {
  try {
    const parsed = new URL(value)
    return parsed.protocol === 'https:' || parsed.protocol === 'http:'
  } catch {
    return false
  }
}
