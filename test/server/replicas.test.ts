import { execFile } from 'node:child_process'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { generateKey, writeKeyFile } from '../../src/services/keys/key-files.js'
import { PASSWORD } from '../helper.js'
import { createTestDatabase, postgresTestOptions } from '../helpers/postgres.js'
import { REDIS_URL, redisTestOptions, redisTestPrefix } from '../helpers/redis.js'
import { ensureBuilt, get, post, startServer, type ServerProcess } from '../helpers/server-process.js'

/**
 * Two service processes on loopback, as two replicas behind a load balancer: one PostgreSQL database,
 * one Redis key prefix and one KEYS_DIR (the mounted secret, written before they start), NODE_ENV=production.
 */
const postgresOptions = await postgresTestOptions(t)
const redisOptions = await redisTestOptions(t)
const skip = postgresOptions.skip || redisOptions.skip

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
/** TRUST_PROXY=loopback lets each scenario come from its own client address, so address counters stay apart. */
const from = (address: string) => ({ 'x-forwarded-for': address })

function kidOf (token: string): string {
  return JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid
}

async function jwksKids (replica: ServerProcess): Promise<string[]> {
  return (await get(`${replica.url}/.well-known/jwks.json`)).body.keys.map((key: { kid: string }) => key.kid)
}

t.test('two replicas sharing PostgreSQL, Redis and KEYS_DIR', { skip }, async (t) => {
  await ensureBuilt()
  const keysDir = join(t.testdir(), 'keys')
  const initial = await generateKey('ES256', new Date())
  await writeKeyFile(keysDir, initial)
  const env = {
    NODE_ENV: 'production',
    DATABASE_URL: await createTestDatabase(t),
    REDIS_URL,
    REDIS_PREFIX: redisTestPrefix(t),
    KEYS_DIR: keysDir,
    AUTH_ISSUER: 'http://auth.test',
    LOGIN_MAX_FAILURES: '3',
    TRUST_PROXY: 'loopback',
    HASH_CONCURRENCY: '1'
  }
  const [a, b] = await Promise.all([startServer(t, env), startServer(t, env)]) as [ServerProcess, ServerProcess]

  const registered = await post(`${a.url}/auth/register`, { username: 'alice', password: PASSWORD })
  t.equal(registered.status, 201)
  const tokens = (await post(`${a.url}/auth/login`, { username: 'alice', password: PASSWORD }, from('10.1.0.1'))).body

  t.test('an access token issued by one is accepted by the other', async (t) => {
    const me = await get(`${b.url}/auth/me`, bearer(tokens.access_token))
    t.equal(me.status, 200)
    t.same(me.body.user, registered.body.user)
  })

  t.test('a refresh token issued by one rotates on the other, and its successor back on the first', async (t) => {
    const onB = await post(`${b.url}/auth/refresh`, { refresh_token: tokens.refresh_token })
    t.equal(onB.status, 200)
    t.not(onB.body.refresh_token, tokens.refresh_token)
    const onA = await post(`${a.url}/auth/refresh`, { refresh_token: onB.body.refresh_token })
    t.equal(onA.status, 200)
    t.equal((await get(`${b.url}/auth/me`, bearer(onA.body.access_token))).status, 200)
  })

  t.test('failed logins on one throttle the other', async (t) => {
    for (let i = 0; i < 3; i++) {
      t.equal((await post(`${a.url}/auth/login`, { username: 'alice', password: 'not the password' }, from('10.1.0.2'))).status, 401)
    }
    const blocked = await post(`${b.url}/auth/login`, { username: 'alice', password: PASSWORD }, from('10.1.0.3'))
    t.equal(blocked.status, 429, 'the account is throttled on the other replica, even with the right password')
    t.equal(blocked.body.code, 'TOO_MANY_REQUESTS')
    t.ok(Number(blocked.headers.get('retry-after')) > 0)
    const byAddress = await post(`${b.url}/auth/login`, { username: 'bob', password: 'whatever1' }, from('10.1.0.2'))
    t.equal(byAddress.status, 429, 'and so is the address the failures came from')
  })

  t.test('a key rotated into KEYS_DIR shows up in both JWKS after SIGHUP', async (t) => {
    t.same(await jwksKids(a), [initial.kid])
    // The operator's way: the admin CLI with the same KEYS_DIR and JWT_ALG, publishing a key an hour before it signs.
    const cli = resolve(import.meta.dirname, '..', '..', 'dist', 'cli.js')
    const { stdout } = await promisify(execFile)(process.execPath, [cli, 'keys', 'rotate', '--activate-in', '3600', '--json'], {
      env: { ...process.env, KEYS_DIR: keysDir, JWT_ALG: 'ES256' }
    })
    const next = JSON.parse(stdout) as { kid: string }
    t.same(await jwksKids(b), [initial.kid], 'not before the signal (the periodic re-read is a minute away)')
    a.child.kill('SIGHUP')
    b.child.kill('SIGHUP')
    const expected = [initial.kid, next.kid].sort()
    for (const replica of [a, b]) {
      let kids: string[] = []
      for (let i = 0; i < 100; i++) {
        kids = (await jwksKids(replica)).sort()
        if (kids.length === 2) break
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      t.same(kids, expected, `${replica === a ? 'A' : 'B'} publishes the new key`)
    }
    await post(`${b.url}/auth/register`, { username: 'dave', password: PASSWORD })
    const dave = (await post(`${b.url}/auth/login`, { username: 'dave', password: PASSWORD }, from('10.1.0.10'))).body
    t.equal(kidOf(dave.access_token), initial.kid, 'the old key still signs until the new one activates')
    t.equal((await get(`${a.url}/auth/me`, bearer(dave.access_token))).status, 200)
  })
})
