import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { retire, rotate } from '../../src/services/keys/rotation.js'
import { bearer, buildTestApp, frozenClock, login, register } from '../helper.js'

function kidOf (token: string): string {
  const [header] = token.split('.')
  return (JSON.parse(Buffer.from(header ?? '', 'base64url').toString()) as { kid: string }).kid
}

t.test('key rotation end to end, without logging anyone out', async (t) => {
  const clock = frozenClock()
  const { app, config } = await buildTestApp(t, { ACCESS_TOKEN_TTL: '900', CLOCK_SKEW: '5' }, { clock })
  await register(app)
  const before = await login(app)
  const oldKid = kidOf(before.access_token)

  const next = await rotate(config.keysDir, config.alg, clock.now(), 420_000)
  await app.services.maintainKeys()
  const jwks = async () => (await app.inject('/.well-known/jwks.json')).json<{ keys: Array<{ kid: string }> }>().keys.map((k) => k.kid).sort()
  t.same(await jwks(), [oldKid, next.kid].sort(), 'the new key is published at once')
  t.equal(kidOf((await login(app)).access_token), oldKid, 'but does not sign before its activation time')

  clock.advance(420_000)
  const after = await login(app)
  t.equal(kidOf(after.access_token), next.kid, 'after activation new tokens carry the new kid')
  t.equal((await app.inject({ url: '/auth/me', headers: bearer(before.access_token) })).statusCode, 200,
    'a token signed before the rotation keeps verifying')
  t.equal((await app.inject({ url: '/auth/me', headers: bearer(after.access_token) })).statusCode, 200)

  clock.advance(65_000)
  await retire(config.keysDir, oldKid, { now: clock.now(), tokenLifetimeMs: 65_000, force: false })
  await app.services.maintainKeys()
  t.same(await jwks(), [next.kid], 'a retired key disappears from the JWKS')
  const refused = await app.inject({ url: '/auth/me', headers: bearer(before.access_token) })
  t.equal(refused.statusCode, 401, 'and its tokens are no longer accepted')
  t.equal(refused.json().code, 'TOKEN_INVALID')
})

t.test('a corrupt key file does not stop the service', async (t) => {
  const { app, config, logs } = await buildTestApp(t)
  await register(app)
  const tokens = await login(app)
  await writeFile(join(config.keysDir, 'garbage.key.json'), 'not json at all')
  await writeFile(join(config.keysDir, `${kidOf(tokens.access_token)}.key.json`), '{"truncated": ')
  await app.services.maintainKeys()
  t.match(logs.join('\n'), /skipping unreadable key file/, 'the broken files are logged')
  t.equal((await app.inject({ url: '/auth/me', headers: bearer(tokens.access_token) })).statusCode, 401,
    'a key whose file broke is no longer trusted')
  t.equal((await app.inject('/healthz')).statusCode, 200, 'the service stays up')
})

t.test('JWKS max-age is shorter than the lead with which keys are published', async (t) => {
  const { app, config } = await buildTestApp(t, { KEY_ROTATION_DAYS: '7' })
  const response = await app.inject('/.well-known/jwks.json')
  const maxAge = Number(/max-age=(\d+)/.exec(response.headers['cache-control'] as string)?.[1])
  t.ok(maxAge > 0)
  t.ok(maxAge + config.keysReloadInterval < config.keyPublishLead, 'a cache always learns a key before it signs')
})
