import { SignJWT } from 'jose'
import t from 'tap'
import type { App } from '../../src/app.js'
import { ConfigError, loadConfig } from '../../src/config.js'
import { createLogger } from '../../src/logger.js'
import { buildMetricsServer } from '../../src/metrics-server.js'
import { createMetrics } from '../../src/services/metrics.js'
import type { Keyring } from '../../src/services/keys/keyring.js'
import type { PasswordHasher } from '../../src/services/passwords/hasher.js'
import { bearer, buildTestApp, frozenClock, login, PASSWORD, register, registerAndLogin } from '../helper.js'

/** Parses the Prometheus text format into `name{labels}` -> value. */
function parse (text: string): Map<string, number> {
  const samples = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const at = line.lastIndexOf(' ')
    samples.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return samples
}

async function scrape (app: App): Promise<Map<string, number>> {
  const response = await app.inject('/metrics')
  if (response.statusCode !== 200) throw new Error(`/metrics answered ${response.statusCode}`)
  return parse(response.body)
}

const refresh = async (app: App, token: string) => await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: token } })

t.test('/metrics speaks the Prometheus text format, with the default process and event-loop metrics', async (t) => {
  const { app } = await buildTestApp(t)
  const response = await app.inject('/metrics')
  t.equal(response.statusCode, 200)
  t.match(response.headers['content-type'], /^text\/plain; version=0\.0\.4/)
  const samples = parse(response.body)
  for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes']) {
    t.ok(samples.has(name), `${name} is exported`)
  }
  t.match(response.body, /# HELP tessera_logins_total /)
  t.match(response.body, /# TYPE tessera_http_request_duration_seconds histogram/)
})

t.test('requests are counted and timed per route pattern and status, never per raw URL', async (t) => {
  const { app } = await buildTestApp(t)
  await app.inject('/healthz')
  await app.inject('/healthz?probe=1')
  await app.inject('/no/such/path?token=secret')
  await app.inject({ method: 'GET', url: '/auth/me' })
  const samples = await scrape(app)
  t.equal(samples.get('tessera_http_requests_total{method="GET",route="/healthz",status_code="200"}'), 2, 'a query string does not make a new series')
  t.equal(samples.get('tessera_http_requests_total{method="GET",route="unmatched",status_code="404"}'), 1, 'unknown paths share one series')
  t.equal(samples.get('tessera_http_requests_total{method="GET",route="/auth/me",status_code="401"}'), 1)
  t.equal(samples.get('tessera_http_request_duration_seconds_count{method="GET",route="/healthz",status_code="200"}'), 2)
  t.equal(samples.get('tessera_http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/healthz",status_code="200"}'), 2)
  const text = (await app.inject('/metrics')).body
  t.notMatch(text, /no\/such\/path|secret/, 'raw URLs (and what clients put in them) never become labels')
})

t.test('logins are counted by outcome: success, invalid and throttled', async (t) => {
  // Failures count per account and per address: the third failure from this address blocks the fourth attempt.
  const { app } = await buildTestApp(t, { LOGIN_MAX_FAILURES: '3' })
  await register(app, 'alice')
  await login(app, 'alice')
  const wrong = async () => await app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'alice', password: 'not the password' } })
  t.equal((await wrong()).statusCode, 401)
  const unknown = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'nobody', password: PASSWORD } })
  t.equal(unknown.statusCode, 401)
  t.equal((await wrong()).statusCode, 401)
  t.equal((await wrong()).statusCode, 429)
  const samples = await scrape(app)
  t.equal(samples.get('tessera_logins_total{outcome="success"}'), 1)
  t.equal(samples.get('tessera_logins_total{outcome="invalid"}'), 3, 'wrong passwords and unknown users alike')
  t.equal(samples.get('tessera_logins_total{outcome="throttled"}'), 1)
  t.equal(samples.get('tessera_logins_total{outcome="error"}'), 0)
})

t.test('refreshes, reuse detections and revocations are counted with their outcome and reason', async (t) => {
  const clock = frozenClock()
  const { app } = await buildTestApp(t, { REFRESH_REUSE_GRACE: '10' }, { clock })
  const first = await registerAndLogin(app, 'alice')
  const rotated = await refresh(app, first.refresh_token)
  t.equal(rotated.statusCode, 200)
  t.equal((await refresh(app, 'A'.repeat(43))).statusCode, 401, 'an unknown token')
  clock.advance(11_000)
  const reused = await refresh(app, first.refresh_token)
  t.equal(reused.statusCode, 401, 'a spent token after the grace window is reuse')
  let samples = await scrape(app)
  t.equal(samples.get('tessera_refreshes_total{outcome="ok"}'), 1)
  t.equal(samples.get('tessera_refreshes_total{outcome="invalid"}'), 1)
  t.equal(samples.get('tessera_refreshes_total{outcome="reuse"}'), 1)
  t.equal(samples.get('tessera_refresh_reuse_detections_total'), 1)
  t.equal(samples.get('tessera_session_revocations_total{reason="reuse"}'), 1, 'the family was revoked')

  const second = await login(app, 'alice')
  const logout = async (token: string) => await app.inject({ method: 'POST', url: '/auth/logout', payload: { refresh_token: token } })
  t.equal((await logout(second.refresh_token)).statusCode, 204)
  t.equal((await logout(second.refresh_token)).statusCode, 204)
  const third = await login(app, 'alice')
  await login(app, 'alice')
  t.equal((await app.inject({ method: 'POST', url: '/auth/logout-all', headers: bearer(third.access_token) })).statusCode, 204)
  samples = await scrape(app)
  t.equal(samples.get('tessera_session_revocations_total{reason="logout"}'), 1, 'logging out twice revokes once')
  t.equal(samples.get('tessera_session_revocations_total{reason="logout-all"}'), 2, 'one per live session')
})

t.test('token rejections are counted by code and a coarse internal reason', async (t) => {
  const { app, config } = await buildTestApp(t, { ACCESS_TOKEN_TTL: '60' })
  const tokens = await registerAndLogin(app)
  const me = async (headers: Record<string, string>) => await app.inject({ method: 'GET', url: '/auth/me', headers })
  const key = app.services.keyring.signingKey()
  const signed = async (claims: Record<string, unknown>, header: Record<string, unknown> = {}) => await new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'at+jwt', ...header }).sign(key.privateKey)
  const now = Math.floor(Date.now() / 1000)
  const claims = { iss: config.issuer, aud: config.audience, sub: tokens.user.id, iat: now, exp: now + 60, jti: 'j', sid: 's', username: 'alice', roles: [] }
  const [head, body, signature] = tokens.access_token.split('.')
  const flipped = `${signature?.[0] === 'A' ? 'B' : 'A'}${signature?.slice(1) ?? ''}`

  await me({})
  // RFC 6750 §3.1: another scheme is no Bearer credential at all, so it counts as missing.
  await me({ authorization: `Basic ${Buffer.from('alice:pw').toString('base64')}` })
  await me({ authorization: 'Bearer two words' })
  await me(bearer('not-a-jwt'))
  await me(bearer(`${head}.${body}.${flipped}`))
  await me(bearer(await signed(claims, { kid: 'no-such-kid' })))
  await me(bearer(await signed(claims, { jku: 'https://evil.test/jwks' })))
  await me(bearer(await signed({ ...claims, aud: 'another-api' })))
  await me(bearer(await signed({ ...claims, iat: now - 150, exp: now - 100 })))
  const ended = await login(app, 'alice')
  await app.inject({ method: 'POST', url: '/auth/logout', payload: { refresh_token: ended.refresh_token } })
  await app.revocations.refresh()
  await me(bearer(ended.access_token))

  const samples = await scrape(app)
  const expected: Array<[string, string, number]> = [
    ['TOKEN_MISSING', 'missing', 2],
    ['TOKEN_INVALID', 'scheme', 1],
    ['TOKEN_INVALID', 'malformed', 1],
    ['TOKEN_INVALID', 'signature', 1],
    ['TOKEN_INVALID', 'unknown_kid', 1],
    ['TOKEN_INVALID', 'header', 1],
    ['TOKEN_INVALID', 'claims', 1],
    ['TOKEN_EXPIRED', 'expired', 1],
    ['TOKEN_INVALID', 'revoked', 1]
  ]
  for (const [code, reason, count] of expected) {
    t.equal(samples.get(`tessera_token_rejections_total{code="${code}",reason="${reason}"}`), count, `${code} / ${reason}`)
  }
  const total = [...samples].filter(([name]) => name.startsWith('tessera_token_rejections_total')).reduce((sum, [, value]) => sum + value, 0)
  t.equal(total, expected.reduce((sum, [, , count]) => sum + count, 0), 'each refusal counted once, none as "other"')
})

t.test('hashing: wait time is observed per hash, queue depth and active hashes are read at scrape time', async (t) => {
  const { app } = await buildTestApp(t, { HASH_CONCURRENCY: '1' })
  await register(app, 'alice')
  await Promise.all([login(app, 'alice'), login(app, 'alice'), login(app, 'alice')])
  const samples = await scrape(app)
  t.equal(samples.get('tessera_password_hash_wait_seconds_count'), 4, 'one register hash and three login verifications')
  t.ok((samples.get('tessera_password_hash_wait_seconds_sum') ?? 0) > 0, 'with one slot, concurrent logins waited')
  t.equal(samples.get('tessera_password_hash_queue_depth'), 0, 'idle after the burst')
  t.equal(samples.get('tessera_password_hash_active'), 0)

  // The gauges mirror the limiter whatever its state, read when Prometheus scrapes.
  const metrics = createMetrics()
  const limiter = { queued: 7, active: 2 }
  metrics.watch({ hasher: { limiter } as unknown as PasswordHasher, keyring: app.services.keyring, clock: { now: () => Date.now() } })
  let busy = parse(await metrics.registry.metrics())
  t.equal(busy.get('tessera_password_hash_queue_depth'), 7)
  t.equal(busy.get('tessera_password_hash_active'), 2)
  limiter.queued = 0
  busy = parse(await metrics.registry.metrics())
  t.equal(busy.get('tessera_password_hash_queue_depth'), 0)
})

t.test('the age of the active signing key is exported in seconds, and absent when no key can sign', async (t) => {
  const clock = frozenClock()
  const { app } = await buildTestApp(t, {}, { clock })
  const { activatesAt, kid } = app.services.keyring.signingKey()
  clock.set(activatesAt + 90_000)
  t.equal((await scrape(app)).get(`tessera_signing_key_age_seconds{kid="${kid}"}`), 90)

  const metrics = createMetrics()
  const empty = { ready: false, signingKey: () => { throw new Error('no key') } } as unknown as Keyring
  metrics.watch({ hasher: app.services.hasher, keyring: empty, clock })
  const names = [...parse(await metrics.registry.metrics()).keys()]
  t.same(names.filter((name) => name.startsWith('tessera_signing_key_age_seconds')), [], 'no made-up age without a key')
})

t.test('each app counts its own requests (a registry per instance)', async (t) => {
  const one = await buildTestApp(t)
  const two = await buildTestApp(t)
  await one.app.inject('/healthz')
  t.equal((await scrape(one.app)).get('tessera_http_requests_total{method="GET",route="/healthz",status_code="200"}'), 1)
  t.notOk((await scrape(two.app)).has('tessera_http_requests_total{method="GET",route="/healthz",status_code="200"}'))
})

t.test('with METRICS_PORT the API port has no /metrics; a listener of its own serves the same registry', async (t) => {
  const { app } = await buildTestApp(t, { METRICS_PORT: '9464' })
  t.equal((await app.inject('/metrics')).statusCode, 404)
  t.notOk((await app.inject('/openapi.json')).json<{ paths: Record<string, unknown> }>().paths['/metrics'], 'nor is it documented there')
  await app.inject('/healthz')

  const server = buildMetricsServer({ metrics: app.metrics, logger: createLogger('silent') })
  t.teardown(async () => await server.close())
  const address = await server.listen({ port: 0, host: '127.0.0.1' })
  const response = await fetch(`${address}/metrics`)
  t.equal(response.status, 200)
  const samples = parse(await response.text())
  t.equal(samples.get('tessera_http_requests_total{method="GET",route="/healthz",status_code="200"}'), 1, 'it counts the API port\'s requests')
  t.equal((await fetch(`${address}/healthz`)).status, 404, 'and serves nothing else')

  const withRoute = await buildTestApp(t)
  t.ok((await withRoute.app.inject('/openapi.json')).json<{ paths: Record<string, unknown> }>().paths['/metrics'], 'without METRICS_PORT /metrics is documented')
})

t.test('METRICS_PORT is validated at start', async (t) => {
  t.throws(() => loadConfig({ METRICS_PORT: 'nine' }), ConfigError)
  t.throws(() => loadConfig({ METRICS_PORT: '70000' }), /METRICS_PORT: must be at most 65535/)
  t.throws(() => loadConfig({ PORT: '8080', METRICS_PORT: '8080' }), /METRICS_PORT: must differ from PORT/)
  t.equal(loadConfig({ METRICS_PORT: '9464' }).metricsPort, 9464)
  t.equal(loadConfig({}).metricsPort, undefined)
})
