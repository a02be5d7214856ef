import { createPublicKey, verify as verifySignature, type JsonWebKey } from 'node:crypto'
import { join } from 'node:path'
import argon2 from 'argon2'
import t from 'tap'
import type { Test } from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import type { App } from '../../src/app.js'
import { createSqliteStore } from '../../src/store/sqlite.js'
import { buildTestApp, frozenClock, login, PASSWORD, register, registerAndLogin } from '../helper.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const CURRENT_PARAMS = '$argon2id$v=19$m=19456,t=2,p=1$'

function decodeSegment (token: string, index: number): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>
}

function assertError (t: Test, response: LightMyRequestResponse, status: number, code: string) {
  t.equal(response.statusCode, status, `status ${status}`)
  const body = response.json<Record<string, unknown>>()
  t.same(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode'])
  t.equal(body['statusCode'], status)
  t.equal(body['code'], code)
}

const attempt = async (app: App, username: string, password: string, remoteAddress = '127.0.0.1') =>
  await app.inject({ method: 'POST', url: '/auth/login', payload: { username, password }, remoteAddress })

t.test('200 token response as DESIGN.md describes it', async (t) => {
  const clock = frozenClock(Date.parse('2030-01-01T00:00:00.400Z'))
  const { app, config } = await buildTestApp(t, { AUTH_ISSUER: 'https://auth.example.com', AUTH_AUDIENCE: 'orders-api' }, { clock })
  const user = await register(app, 'alice')
  const response = await attempt(app, 'alice', PASSWORD)

  t.equal(response.statusCode, 200)
  t.equal(response.headers['cache-control'], 'no-store')
  const body = response.json<Record<string, unknown>>()
  t.same(Object.keys(body).sort(), ['access_token', 'expires_in', 'refresh_expires_in', 'refresh_token', 'token_type', 'user'])
  t.equal(body['token_type'], 'Bearer')
  t.equal(body['expires_in'], 900)
  t.equal(body['refresh_expires_in'], 2592000)
  t.same(body['user'], user)
  t.type(body['refresh_token'], 'string')
  t.ok((body['refresh_token'] as string).length >= 43, 'refresh token carries at least 256 bits')

  const token = body['access_token'] as string
  t.equal(token.split('.').length, 3, 'a compact JWS')
  const header = decodeSegment(token, 0)
  t.equal(header['typ'], 'at+jwt')
  t.equal(header['alg'], 'ES256')
  t.type(header['kid'], 'string')

  const claims = decodeSegment(token, 1)
  t.same(Object.keys(claims).sort(), ['aud', 'exp', 'iat', 'iss', 'jti', 'roles', 'sid', 'sub', 'username'])
  t.equal(claims['iss'], 'https://auth.example.com')
  t.equal(claims['aud'], 'orders-api')
  t.equal(claims['sub'], user.id)
  t.equal(claims['iat'], Math.floor(clock.now() / 1000))
  t.equal((claims['exp'] as number) - (claims['iat'] as number), body['expires_in'], 'exp - iat == expires_in')
  t.match(claims['jti'], UUID)
  t.match(claims['sid'], UUID)
  t.equal(claims['username'], 'alice')
  t.same(claims['roles'], ['user'])
  t.equal(config.accessTokenTtl, 900)

  const jwks = (await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json<{ keys: Array<JsonWebKey & { kid: string }> }>()
  const jwk = jwks.keys.find((key) => key.kid === header['kid'])
  t.ok(jwk, 'the kid of the token is in the JWKS')
  const [h, p, s] = token.split('.') as [string, string, string]
  const signed = verifySignature('sha256', Buffer.from(`${h}.${p}`), { key: createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }), dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'))
  t.ok(signed, 'the signature verifies with the published key of that kid')

  const second = (await attempt(app, 'alice', PASSWORD)).json<{ access_token: string, refresh_token: string }>()
  t.not(decodeSegment(second.access_token, 1)['jti'], claims['jti'], 'every token has its own jti')
  t.not(decodeSegment(second.access_token, 1)['sid'], claims['sid'], 'every login is its own session')
  t.not(second.refresh_token, body['refresh_token'])
})

t.test('ACCESS_TOKEN_TTL sets expires_in and exp - iat', async (t) => {
  const { app } = await buildTestApp(t, { ACCESS_TOKEN_TTL: '120' })
  const tokens = await registerAndLogin(app)
  t.equal(tokens.expires_in, 120)
  const claims = decodeSegment(tokens.access_token, 1)
  t.equal((claims['exp'] as number) - (claims['iat'] as number), 120)
})

t.test('login works with any letter case of the username and keeps the registered spelling', async (t) => {
  const { app } = await buildTestApp(t)
  const user = await register(app, 'Alice')
  const tokens = await login(app, 'aLICE')
  t.same(tokens.user, user)
  t.equal(decodeSegment(tokens.access_token, 1)['username'], 'Alice')
})

t.test('unknown user and wrong password cannot be told apart', async (t) => {
  const { app } = await buildTestApp(t)
  await register(app, 'alice')
  // Wrap the real argon2.verify: the hasher calls it through the module object, so every call is seen here.
  const verifyCalls = t.capture(argon2, 'verify', argon2.verify)

  const unknown = await attempt(app, 'nobody', PASSWORD)
  const unknownCalls = verifyCalls()
  const wrong = await attempt(app, 'alice', 'wrong password!')
  const wrongCalls = verifyCalls()

  assertError(t, unknown, 401, 'INVALID_CREDENTIALS')
  t.equal(unknown.body, wrong.body, 'byte-identical bodies')
  t.equal(unknown.headers['www-authenticate'], wrong.headers['www-authenticate'])
  t.equal(unknown.headers['content-type'], wrong.headers['content-type'])
  t.equal(unknown.headers['content-length'], wrong.headers['content-length'])

  t.equal(unknownCalls.length, 1, 'the unknown user went through argon2 verify')
  t.equal(wrongCalls.length, 1, 'the wrong password went through argon2 verify')
  const [dummyHash, unknownPassword] = unknownCalls[0]?.args ?? []
  const [realHash] = wrongCalls[0]?.args ?? []
  t.equal(unknownPassword, PASSWORD, 'the submitted password is what gets verified')
  t.ok(dummyHash?.startsWith(CURRENT_PARAMS), 'the dummy hash costs the same as a real one')
  t.ok(realHash?.startsWith(CURRENT_PARAMS))
})

t.test('a disabled user gets the same 401 as a wrong password', async (t) => {
  const { app } = await buildTestApp(t)
  const user = await register(app, 'alice')
  const wrong = await attempt(app, 'alice', 'wrong password!')
  await app.services.store.users.setDisabled(user.id, true, Date.now())
  const disabled = await attempt(app, 'alice', PASSWORD)
  t.equal(disabled.statusCode, 401)
  t.equal(disabled.body, wrong.body)
})

t.test('login validates its body like register', async (t) => {
  const { app } = await buildTestApp(t)
  await register(app, 'alice')
  const cases: Array<[string, unknown, number, string]> = [
    ['number password', { username: 'alice', password: 12345678 }, 400, 'VALIDATION_FAILED'],
    ['missing password', { username: 'alice' }, 400, 'VALIDATION_FAILED'],
    ['extra field', { username: 'alice', password: PASSWORD, remember: true }, 400, 'VALIDATION_FAILED'],
    ['password over 1024', { username: 'alice', password: 'x'.repeat(1025) }, 400, 'VALIDATION_FAILED']
  ]
  for (const [name, payload, status, code] of cases) {
    const response = await app.inject({ method: 'POST', url: '/auth/login', payload: payload as Record<string, unknown> })
    t.equal(response.statusCode, status, name)
    t.equal(response.json().code, code, name)
  }
  const malformed = await app.inject({ method: 'POST', url: '/auth/login', payload: '{"username":', headers: { 'content-type': 'application/json' } })
  assertError(t, malformed, 400, 'INVALID_JSON')
  const form = await app.inject({ method: 'POST', url: '/auth/login', payload: 'username=alice', headers: { 'content-type': 'text/plain' } })
  assertError(t, form, 415, 'UNSUPPORTED_MEDIA_TYPE')
})

t.test('throttling failed logins (LOGIN_MAX_FAILURES=3)', async (t) => {
  t.test('per account, across client addresses', async (t) => {
    const clock = frozenClock()
    const { app } = await buildTestApp(t, { LOGIN_MAX_FAILURES: '3', LOGIN_WINDOW: '900' }, { clock })
    await register(app, 'alice')
    for (const address of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) {
      t.equal((await attempt(app, 'alice', 'wrong password!', address)).statusCode, 401, `failure from ${address}`)
    }
    const fourth = await attempt(app, 'alice', 'wrong password!', '10.0.0.4')
    assertError(t, fourth, 429, 'TOO_MANY_REQUESTS')
    t.equal(fourth.headers['retry-after'], '1', 'Retry-After is the progressive delay (1 s at the limit), not the window')

    const correct = await attempt(app, 'alice', PASSWORD, '10.0.0.5')
    assertError(t, correct, 429, 'TOO_MANY_REQUESTS')
    t.ok(correct.headers['retry-after'], 'a correct password while throttled is still 429 with Retry-After')

    const otherCase = await attempt(app, 'ALICE', PASSWORD, '10.0.0.6')
    t.equal(otherCase.statusCode, 429, 'another letter case is the same account')

    clock.advance(1000)
    const after = await attempt(app, 'alice', PASSWORD, '10.0.0.1')
    t.equal(after.statusCode, 200, 'after the delay the correct password logs in: there is no lockout (issue 8)')
  })

  t.test('per client address, across usernames', async (t) => {
    const clock = frozenClock()
    const { app } = await buildTestApp(t, { LOGIN_MAX_FAILURES: '3', LOGIN_WINDOW: '60' }, { clock })
    await register(app, 'alice')
    const sprayer = '203.0.113.9'
    for (const username of ['bob', 'carol', 'dave']) {
      t.equal((await attempt(app, username, 'Summer2024!', sprayer)).statusCode, 401)
    }
    const blocked = await attempt(app, 'erin', 'Summer2024!', sprayer)
    assertError(t, blocked, 429, 'TOO_MANY_REQUESTS')
    t.equal(blocked.headers['retry-after'], '1', 'the progressive delay, 1 s at the limit')
    t.equal((await attempt(app, 'alice', PASSWORD, sprayer)).statusCode, 429, 'even a correct login from that address waits')
    t.equal((await attempt(app, 'alice', PASSWORD, '198.51.100.7')).statusCode, 200, 'other addresses are not affected')

    clock.advance(1000)
    t.equal((await attempt(app, 'erin', 'Summer2024!', sprayer)).statusCode, 401, 'after the delay one more guess goes through')
    t.equal((await attempt(app, 'fred', 'Summer2024!', sprayer)).headers['retry-after'], '2', 'and the next waits twice as long')
    clock.advance(60_001)
    t.equal((await attempt(app, 'alice', PASSWORD, sprayer)).statusCode, 200, 'a LOGIN_WINDOW without failures clears the address')
  })

  t.test('parallel guesses cannot outrun the limit', async (t) => {
    const { app } = await buildTestApp(t, { LOGIN_MAX_FAILURES: '3' })
    await register(app, 'alice')
    const responses = await Promise.all(Array.from({ length: 12 }, async (_, i) => await attempt(app, 'alice', `wrong password ${i}`, `10.1.0.${i}`)))
    const statuses = responses.map((r) => r.statusCode).sort()
    t.same(statuses, [...Array(3).fill(401), ...Array(9).fill(429)], 'only three of twelve simultaneous guesses were checked')
  })

  t.test('successful logins never count against the address', async (t) => {
    const { app } = await buildTestApp(t, { LOGIN_MAX_FAILURES: '3' })
    await register(app, 'alice')
    for (let i = 0; i < 6; i++) t.equal((await attempt(app, 'alice', PASSWORD, '192.0.2.1')).statusCode, 200, `login ${i + 1}`)
  })

  t.test('an attempt that fails for another reason (store down) does not count', async (t) => {
    const dir = t.testdir()
    const real = createSqliteStore(join(dir, 'auth.db'))
    let down = false
    const users = {
      ...real.users,
      async findByUsername (username: string) {
        if (down) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
        return await real.users.findByUsername(username)
      }
    }
    const { app } = await buildTestApp(t, { LOGIN_MAX_FAILURES: '3' }, { dir, store: { ...real, users } })
    await register(app, 'alice')
    down = true
    for (let i = 0; i < 5; i++) t.equal((await attempt(app, 'alice', PASSWORD)).statusCode, 503)
    down = false
    t.equal((await attempt(app, 'alice', PASSWORD)).statusCode, 200)
  })

  t.test('failures below the limit do not throttle', async (t) => {
    const { app } = await buildTestApp(t, { LOGIN_MAX_FAILURES: '3' })
    await register(app, 'alice')
    for (let i = 0; i < 2; i++) await attempt(app, 'alice', 'wrong password!')
    t.equal((await attempt(app, 'alice', PASSWORD)).statusCode, 200)
  })
})

t.test('a hash made with other argon2 parameters is upgraded at the next successful login', async (t) => {
  const { app, logs } = await buildTestApp(t)
  const user = await register(app, 'alice')
  const oldHash = await argon2.hash(PASSWORD, { type: argon2.argon2id, memoryCost: 19456, timeCost: 3, parallelism: 2 })
  await app.services.store.users.setPasswordHash(user.id, oldHash, Date.now())

  const wrong = await attempt(app, 'alice', 'wrong password!')
  t.equal(wrong.statusCode, 401)
  t.equal((await app.services.store.users.findById(user.id))?.passwordHash, oldHash, 'a failed login upgrades nothing')

  t.equal((await attempt(app, 'alice', PASSWORD)).statusCode, 200, 'the old hash still logs in')
  const upgraded = (await app.services.store.users.findById(user.id))?.passwordHash ?? ''
  t.not(upgraded, oldHash)
  t.ok(upgraded.startsWith(CURRENT_PARAMS), `re-hashed with the current parameters: ${upgraded.slice(0, 32)}`)
  t.ok(await argon2.verify(upgraded, PASSWORD), 'the new hash is of the same password')
  t.ok(logs.some((line) => line.includes('"event":"password_rehashed"')), 'the upgrade is logged')

  await login(app, 'alice')
  t.equal((await app.services.store.users.findById(user.id))?.passwordHash, upgraded, 'a current hash is left alone')
})
