import { join } from 'node:path'
import t, { type Test } from 'tap'
import type { App } from '../../src/app.js'
import { ALGORITHMS } from '../../src/config.js'
import { bearer, buildTestApp, frozenClock, registerAndLogin } from '../helper.js'

/**
 * The verify hook as a client meets it: where the token is read from, the scheme, time, and which keys and
 * algorithms it trusts. Crafted (hostile) tokens are in hostile-tokens.test.ts.
 */

type TokenCode = 'TOKEN_MISSING' | 'TOKEN_INVALID' | 'TOKEN_EXPIRED'

/** Our fixed messages: a client never sees what fast-jwt or @fastify/jwt said. */
const MESSAGES: Record<TokenCode, string> = {
  TOKEN_MISSING: 'An access token is required',
  TOKEN_INVALID: 'The access token is invalid',
  TOKEN_EXPIRED: 'The access token has expired'
}

interface Sent {
  method?: 'GET' | 'POST'
  url?: string
  headers?: Record<string, string>
  payload?: unknown
}

/** 401, the stable code and fixed message, and a Bearer challenge (RFC 6750 §3): error="invalid_token" only when a token was sent. */
async function assertRefused (t: Test, app: App, sent: Sent, code: TokenCode) {
  const response = await app.inject({ method: sent.method ?? 'GET', url: sent.url ?? '/auth/me', headers: sent.headers ?? {}, ...(sent.payload === undefined ? {} : { payload: sent.payload as object }) })
  t.equal(response.statusCode, 401, 'answered 401')
  const body = response.json<Record<string, unknown>>()
  t.same(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode'], 'the one error shape')
  t.equal(body['code'], code)
  t.equal(body['message'], MESSAGES[code], 'a fixed message, not the library\'s')
  const challenge = String(response.headers['www-authenticate'] ?? '')
  t.match(challenge, /^Bearer realm="[^"]+"/, 'a Bearer challenge')
  if (code === 'TOKEN_MISSING') t.notMatch(challenge, /error=/, 'no error code when no token was sent (RFC 6750 §3.1)')
  else t.match(challenge, /error="invalid_token"/)
}

async function me (app: App, authorization: string) {
  return await app.inject({ method: 'GET', url: '/auth/me', headers: { authorization } })
}

t.test('a token issued at login is accepted and becomes request.user', async (t) => {
  const { app } = await buildTestApp(t)
  const tokens = await registerAndLogin(app)
  const response = await me(app, `Bearer ${tokens.access_token}`)
  t.equal(response.statusCode, 200)
  t.same(response.json(), { user: { id: tokens.user.id, username: 'alice', roles: ['user'] } })
})

t.test('the scheme name is case-insensitive (RFC 7235 §2.1)', async (t) => {
  const { app } = await buildTestApp(t)
  const { access_token: token } = await registerAndLogin(app)
  for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
    const response = await me(app, `${scheme} ${token}`)
    t.equal(response.statusCode, 200, `${scheme} is accepted`)
  }
})

t.test('a token anywhere but the Authorization header is never read', async (t) => {
  const { app } = await buildTestApp(t)
  const { access_token: token } = await registerAndLogin(app)
  await t.test('query string (RFC 6750 §2.3 is not supported)', async (t) => {
    await assertRefused(t, app, { url: `/auth/me?access_token=${token}` }, 'TOKEN_MISSING')
  })
  await t.test('JSON body', async (t) => {
    await assertRefused(t, app, { method: 'POST', url: '/auth/logout-all', payload: { access_token: token } }, 'TOKEN_MISSING')
  })
  await t.test('an empty Authorization header', async (t) => {
    await assertRefused(t, app, { headers: { authorization: '' } }, 'TOKEN_MISSING')
  })
})

t.test('another authentication scheme is refused as if no token was sent (RFC 6750 §3.1)', async (t) => {
  const { app } = await buildTestApp(t)
  const { access_token: token } = await registerAndLogin(app)
  await t.test('Basic', async (t) => {
    await assertRefused(t, app, { headers: { authorization: `Basic ${Buffer.from('alice:secret').toString('base64')}` } }, 'TOKEN_MISSING')
  })
  await t.test('a valid JWT under another scheme', async (t) => {
    await assertRefused(t, app, { headers: { authorization: `JWT ${token}` } }, 'TOKEN_MISSING')
  })
  await t.test('a bare token with no scheme', async (t) => {
    await assertRefused(t, app, { headers: { authorization: token } }, 'TOKEN_MISSING')
  })
})

t.test('a malformed Bearer credential is an invalid token', async (t) => {
  const { app } = await buildTestApp(t)
  const { access_token: token } = await registerAndLogin(app)
  for (const authorization of ['Bearer', 'Bearer ', `Bearer ${token} ${token}`, `Bearer\t${token}`]) {
    await t.test(JSON.stringify(authorization.slice(0, 12)), async (t) => {
      await assertRefused(t, app, { headers: { authorization } }, 'TOKEN_INVALID')
    })
  }
})

t.test('expiry follows the injected clock, with CLOCK_SKEW as leeway', async (t) => {
  const clock = frozenClock(Date.parse('2030-01-01T00:00:00Z'))
  const { app, config } = await buildTestApp(t, {}, { clock })
  const tokens = await registerAndLogin(app)
  t.equal((await me(app, `Bearer ${tokens.access_token}`)).statusCode, 200, 'fresh token accepted (and cached by the verifier)')

  clock.advance((config.accessTokenTtl + config.clockSkew - 1) * 1000)
  t.equal((await me(app, `Bearer ${tokens.access_token}`)).statusCode, 200, 'past exp but inside the skew: accepted')

  clock.advance(2000)
  await assertRefused(t, app, { headers: bearer(tokens.access_token) }, 'TOKEN_EXPIRED')
})

t.test('a token used before its iat (clock moved back beyond the skew) is refused', async (t) => {
  const clock = frozenClock(Date.parse('2030-01-01T00:00:00Z'))
  const { app, config } = await buildTestApp(t, {}, { clock })
  const tokens = await registerAndLogin(app)
  clock.advance(-(config.clockSkew + 1) * 1000)
  await assertRefused(t, app, { headers: bearer(tokens.access_token) }, 'TOKEN_INVALID')
})

t.test('a token from another Tessera instance (other keys) is refused', async (t) => {
  const ours = await buildTestApp(t)
  const theirs = await buildTestApp(t)
  const { access_token: token } = await registerAndLogin(theirs.app)
  t.equal((await me(theirs.app, `Bearer ${token}`)).statusCode, 200, 'valid where it was issued')
  await assertRefused(t, ours.app, { headers: bearer(token) }, 'TOKEN_INVALID')
})

for (const alg of ALGORITHMS) {
  t.test(`JWT_ALG=${alg} works end to end`, async (t) => {
    const { app } = await buildTestApp(t, { JWT_ALG: alg })
    const tokens = await registerAndLogin(app)
    const header = JSON.parse(Buffer.from(tokens.access_token.split('.')[0] ?? '', 'base64url').toString()) as Record<string, unknown>
    t.equal(header['alg'], alg)
    t.equal(header['typ'], 'at+jwt')
    const jwks = (await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json<{ keys: Array<{ kid: string, alg: string }> }>()
    t.same(jwks.keys.map((key) => [key.kid, key.alg]), [[header['kid'], alg]], 'the signing key is the one published')
    const response = await me(app, `Bearer ${tokens.access_token}`)
    t.equal(response.statusCode, 200)
    t.same(response.json(), { user: tokens.user })
  })
}

t.test('instances sharing one KEYS_DIR with different JWT_ALG accept only tokens of their own algorithm', async (t) => {
  const dir = t.testdir()
  const instances = []
  for (const alg of ALGORITHMS) {
    // One KEYS_DIR, one database per instance: each generates its own key of its algorithm next to the others.
    const { app } = await buildTestApp(t, { JWT_ALG: alg, DATABASE_URL: `sqlite:${join(dir, `${alg}.db`)}` }, { dir })
    instances.push({ alg, app, token: (await registerAndLogin(app)).access_token })
  }
  // Every instance now sees every key file; each must still ignore keys of another algorithm.
  for (const { app } of instances) await app.services.keyring.reload()
  for (const verifier of instances) {
    for (const issuer of instances) {
      if (issuer === verifier) {
        t.equal((await me(verifier.app, `Bearer ${issuer.token}`)).statusCode, 200, `${verifier.alg} accepts its own token`)
      } else {
        await t.test(`${verifier.alg} refuses a ${issuer.alg} token`, async (t) => {
          await assertRefused(t, verifier.app, { headers: bearer(issuer.token) }, 'TOKEN_INVALID')
        })
      }
    }
  }
})
