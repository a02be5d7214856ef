import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { Clock } from '../clock.js'
import type { ServiceEvents } from './events.js'
import type { Keyring } from './keys/keyring.js'
import type { PasswordHasher } from './passwords/hasher.js'

export interface Metrics {
  /** This app's own registry: tests build many apps in one process, and each must count only its own work. */
  readonly registry: Registry
  /** Passed to createServices. */
  readonly events: ServiceEvents
  /** `route` is the route pattern (never the raw URL, which a client could vary without end). */
  observeRequest (method: string, route: string | undefined, statusCode: number, seconds: number): void
  /** `message` is the client-facing text, `reason` the internal one (see AppError). */
  tokenRejected (code: string, message: string, reason: string | undefined): void
  /** Gauges read at scrape time: hashing queue, signing key age. */
  watch (sources: { hasher: PasswordHasher, keyring: Keyring, clock: Clock }): void
}

/** Revocation reasons are constants in the code (logout, reuse, logout-all, ...); anything else is "other". */
const REASON = /^[a-z][a-z-]{0,31}$/

/**
 * The internal reason behind a refused access token, as a label with a handful of values. The full reason
 * stays in the log; free text in a label would make one time series per distinct message.
 */
export function tokenFailureKind (code: string, message: string, reason = ''): string {
  if (code === 'TOKEN_MISSING') return 'missing'
  if (code === 'TOKEN_EXPIRED') return 'expired'
  // Revocation checks (authenticate.ts `checks`) say so in the message; their reasons are their own.
  if (/revoked/i.test(message)) return 'revoked'
  const rules: Array<[RegExp, string]> = [
    [/not a Bearer token/, 'scheme'],
    [/unknown kid/, 'unknown_kid'],
    [/header is (?:not allowed|missing)|crit/i, 'header'],
    [/signature/i, 'signature'],
    [/algorithm/i, 'algorithm'],
    [/malformed|FAST_JWT_INVALID_PAYLOAD|not a valid|Unexpected token|JSON/i, 'malformed'],
    [/not (?:yet )?(?:active|valid)|inactive/i, 'not_yet_valid'],
    [/\b(?:iss|aud|typ|sub|jti|iat|exp|sid|roles|username|claim|lifetime)\b/i, 'claims']
  ]
  return rules.find(([pattern]) => pattern.test(reason))?.[1] ?? 'other'
}

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export function createMetrics (): Metrics {
  const registry = new Registry()
  // Process CPU, memory, handles, GC and event-loop delay (nodejs_eventloop_lag_*), with their standard names.
  collectDefaultMetrics({ register: registry })
  const registers = [registry]

  const requests = new Counter({ name: 'tessera_http_requests_total', help: 'HTTP requests by route pattern and status', labelNames: ['method', 'route', 'status_code'], registers })
  const latency = new Histogram({ name: 'tessera_http_request_duration_seconds', help: 'Time to answer, by route pattern and status', labelNames: ['method', 'route', 'status_code'], buckets: SECONDS, registers })
  const logins = new Counter({ name: 'tessera_logins_total', help: 'Login attempts by outcome (success, invalid, throttled, error)', labelNames: ['outcome'], registers })
  const refreshes = new Counter({ name: 'tessera_refreshes_total', help: 'Refresh-token rotations by outcome (ok, invalid, reuse, error)', labelNames: ['outcome'], registers })
  const reuse = new Counter({ name: 'tessera_refresh_reuse_detections_total', help: 'Sessions revoked because a spent refresh token was used again (RFC 9700 §4.14.2)', registers })
  const revocations = new Counter({ name: 'tessera_session_revocations_total', help: 'Refresh-token families revoked, by reason', labelNames: ['reason'], registers })
  const rejections = new Counter({ name: 'tessera_token_rejections_total', help: 'Access tokens refused, by client-facing code and coarse internal reason', labelNames: ['code', 'reason'], registers })
  const hashWait = new Histogram({ name: 'tessera_password_hash_wait_seconds', help: 'Time a password hash waited for a hashing slot', buckets: [0.001, ...SECONDS], registers })
  // Initialised so every outcome is exported from the start: rate() over a series that appears late misses its first increase.
  for (const outcome of ['success', 'invalid', 'throttled', 'error']) logins.inc({ outcome }, 0)
  for (const outcome of ['ok', 'invalid', 'reuse', 'error']) refreshes.inc({ outcome }, 0)

  const events: ServiceEvents = {
    login: (outcome) => logins.inc({ outcome }),
    refresh: (outcome) => refreshes.inc({ outcome }),
    revoked (reason, sessions) {
      revocations.inc({ reason: REASON.test(reason) ? reason : 'other' }, sessions)
      if (reason === 'reuse') reuse.inc(sessions)
    },
    hashWait: (ms) => hashWait.observe(ms / 1000)
  }

  return {
    registry,
    events,
    observeRequest (method, route, statusCode, seconds) {
      const labels = { method, route: route ?? 'unmatched', status_code: String(statusCode) }
      requests.inc(labels)
      latency.observe(labels, seconds)
    },
    tokenRejected (code, message, reason) {
      rejections.inc({ code, reason: tokenFailureKind(code, message, reason) })
    },
    watch ({ hasher, keyring, clock }) {
      new Gauge({ name: 'tessera_password_hash_queue_depth', help: 'Password hashes waiting for a slot', registers, collect () { this.set(hasher.limiter.queued) } })
      new Gauge({ name: 'tessera_password_hash_active', help: 'Password hashes being computed now', registers, collect () { this.set(hasher.limiter.active) } })
      // Labelled by kid: one series at a time (reset at each scrape), and absent when no key can sign rather than a made-up 0.
      new Gauge({
        name: 'tessera_signing_key_age_seconds',
        help: 'Seconds since the active signing key started signing, labelled with its kid; absent when no key can sign',
        labelNames: ['kid'],
        registers,
        collect () {
          this.reset()
          if (!keyring.ready) return
          const key = keyring.signingKey()
          this.set({ kid: key.kid }, (clock.now() - key.activatesAt) / 1000)
        }
      })
    }
  }
}
