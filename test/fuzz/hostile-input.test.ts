import fc from 'fast-check'
import t from 'tap'
import { bearer, buildTestApp, frozenClock, PASSWORD, register } from '../helper.js'
import { brokenInvariant, tokenContext } from '../fixtures/hostile-app.js'
import { hostileRequest, mutatedToken, unmutatedToken } from '../fixtures/hostile.js'

/** A sanity bound, not a performance target: it catches a request that hangs or backtracks, on a busy 2-core machine. */
const BOUND_MS = 2000

t.test('generated bodies, headers and tokens on every route: no 5xx, no hang, one error shape, and users still log in', async (t) => {
  const clock = frozenClock()
  const { app, config, logs } = await buildTestApp(t, { LOG_LEVEL: 'warn' }, { clock })
  const alice = await register(app, 'alice')
  const ctx = tokenContext(app, config, clock)
  let slowest = 0
  const statuses = new Map<number, number>()

  await fc.assert(fc.asyncProperty(hostileRequest(ctx), async (request) => {
    clock.advance(1000)
    const started = performance.now()
    const response = await app.inject({
      method: request.method as 'GET',
      url: request.url,
      headers: request.headers,
      ...(request.payload === undefined ? {} : { payload: request.payload }),
      remoteAddress: request.forwardedFor
    })
    const took = performance.now() - started
    slowest = Math.max(slowest, took)
    statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1)
    const broken = brokenInvariant(request.method, response.statusCode, response.headers, response.body)
    if (broken) throw new Error(`${request.method} ${request.url}: ${broken}`)
    if (took > BOUND_MS) throw new Error(`${request.method} ${request.url} took ${Math.round(took)} ms`)
  }), { numRuns: 600, seed: Number(process.env['FUZZ_SEED'] ?? Date.now() % 2 ** 31) })

  t.comment(`statuses ${JSON.stringify(Object.fromEntries(statuses))}; slowest ${Math.round(slowest)} ms`)
  t.ok([...statuses.keys()].every((status) => status < 500), 'no 5xx')
  t.ok((statuses.get(400) ?? 0) > 50 && (statuses.get(401) ?? 0) > 50, 'the run reached validation, credentials and the verify hook, not just 404s')
  t.notOk(logs.some((line) => (JSON.parse(line) as { level: number }).level >= 50), 'nothing was logged as an error')

  // The service is still up and still serves its users.
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)
  let login = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'alice', password: PASSWORD }, remoteAddress: '192.0.2.200' })
  if (login.statusCode === 429) {
    // The run may have attacked alice's account: a clean address waits Retry-After once, then goes through.
    clock.advance(Number(login.headers['retry-after']) * 1000)
    login = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'alice', password: PASSWORD }, remoteAddress: '192.0.2.200' })
  }
  t.equal(login.statusCode, 200, 'alice logs in')
  const me = await app.inject({ method: 'GET', url: '/auth/me', headers: bearer(login.json().access_token) })
  t.same(me.json(), { user: alice })
  t.equal((await app.inject({ method: 'POST', url: '/auth/register', payload: { username: 'newcomer', password: PASSWORD }, remoteAddress: '192.0.2.201' })).statusCode, 201)
})

t.test('no token with a broken rule is ever accepted, however it is signed', async (t) => {
  const clock = frozenClock()
  const { app, config } = await buildTestApp(t, {}, { clock })
  const ctx = tokenContext(app, config, clock)
  const control = await app.inject({ method: 'GET', url: '/auth/me', headers: bearer(unmutatedToken(ctx)) })
  t.equal(control.statusCode, 200, 'the token before mutation is accepted: each refusal below is the mutation\'s doing')
  const seen = new Set<string>()
  await fc.assert(fc.asyncProperty(mutatedToken(ctx), fc.constantFrom('/auth/me', '/auth/logout-all'), async ({ mutation, token }, url) => {
    seen.add(mutation.replace(/ \(.*\)$/, ''))
    const response = await app.inject({ method: url === '/auth/me' ? 'GET' : 'POST', url, headers: bearer(token) })
    if (response.statusCode !== 401) throw new Error(`${mutation} on ${url}: ${response.statusCode} ${response.body}`)
    const code = response.json<{ code: string }>().code
    if (code !== 'TOKEN_INVALID' && code !== 'TOKEN_EXPIRED') throw new Error(`${mutation}: code ${code}`)
  }), { numRuns: 400 })
  t.ok(seen.size >= 20, `${seen.size} kinds of broken token tried`)
})
