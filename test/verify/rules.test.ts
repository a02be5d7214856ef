import { createPublicKey } from 'node:crypto'
import { SignJWT } from 'jose'
import t from 'tap'
import { createVerifier, VerifierOptionsError, type VerifyError } from '../../src/verify/index.js'
import { makeKey, recordingLogger, signToken, startLocalIssuer, type LocalKey } from './fixtures/local-issuer.js'

const rejection = async (promise: Promise<unknown>) => await promise.then(() => undefined, (error: unknown) => error as VerifyError)
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

t.test('the kit applies Tessera\'s token rules', async (t) => {
  const es = makeKey('ES256')
  const ed = makeKey('EdDSA')
  const { issuer } = await startLocalIssuer(t, { keys: [es, ed] })
  const verifier = createVerifier({ issuer, audience: 'api', maxLifetime: 900, logger: recordingLogger().logger })
  t.teardown(() => verifier.close())
  const now = Math.floor(Date.now() / 1000)

  const good = await verifier.verify(await signToken(es, issuer, { claims: { sub: 'u-1', sid: 's-1', roles: ['user', 'admin'] } }))
  t.match(good, { id: 'u-1', sessionId: 's-1', username: 'alice', roles: ['user', 'admin'] })
  t.equal((await verifier.verify(await signToken(ed, issuer))).username, 'alice', 'every key serves its own algorithm')

  const cases: Array<[string, () => Promise<string> | string, string]> = [
    ['expired beyond the skew', async () => await signToken(es, issuer, { iat: now - 1000, ttl: 900 }), 'TOKEN_EXPIRED'],
    ['another issuer', async () => await signToken(es, issuer, { claims: { iss: 'https://evil.example' } }), 'TOKEN_INVALID'],
    ['another audience', async () => await signToken(es, issuer, { claims: { aud: 'other' } }), 'TOKEN_INVALID'],
    ['typ JWT instead of at+jwt (RFC 9068)', async () => await signToken(es, issuer, { header: { typ: 'JWT' } }), 'TOKEN_INVALID'],
    ['iat in the future', async () => await signToken(es, issuer, { iat: now + 600 }), 'TOKEN_INVALID'],
    ['not yet valid (nbf)', async () => await signToken(es, issuer, { claims: { nbf: now + 600 } }), 'TOKEN_INVALID'],
    ['a lifetime longer than maxLifetime', async () => await signToken(es, issuer, { ttl: 3600 }), 'TOKEN_INVALID'],
    ['roles that are not a list of strings', async () => await signToken(es, issuer, { claims: { roles: 'admin' } }), 'TOKEN_INVALID'],
    ['no sub', async () => await signToken(es, issuer, { claims: { sub: undefined } }), 'TOKEN_INVALID'],
    ['a jku header (RFC 8725 §3.10)', async () => await signToken(es, issuer, { header: { jku: `${issuer}/jwks.json` } }), 'TOKEN_INVALID'],
    ['no kid', async () => await signToken(es, issuer, { header: { kid: undefined } }), 'TOKEN_INVALID'],
    ['an unknown crit extension', async () => await withCrit(es, issuer, now), 'TOKEN_INVALID'],
    ['the EdDSA key used with an ES256 header', async () => await signToken({ ...ed, alg: 'ES256', privateKey: es.privateKey }, issuer), 'TOKEN_INVALID'],
    ['alg none', () => `${b64({ alg: 'none', kid: es.kid, typ: 'at+jwt' })}.${b64({ iss: issuer, aud: 'api', sub: 'x', iat: now, exp: now + 60, jti: 'j', username: 'a', roles: [] })}.`, 'TOKEN_INVALID'],
    ['HS256 keyed with the public key (algorithm confusion)', async () => await hs256WithPublicKey(es, issuer, now), 'TOKEN_INVALID'],
    ['a tampered payload', async () => tamper(await signToken(es, issuer)), 'TOKEN_INVALID'],
    ['garbage', () => 'not.a.token', 'TOKEN_INVALID'],
    ['an empty string', () => '', 'TOKEN_MISSING']
  ]
  for (const [name, make, code] of cases) {
    const error = await rejection(verifier.verify(await make()))
    t.equal(error?.code, code, name)
    t.equal(error?.statusCode, 401, `${name}: 401`)
  }
  t.equal((await rejection(verifier.verify(undefined)))?.code, 'TOKEN_MISSING')
  t.equal((await rejection(verifier.verify(42)))?.code, 'TOKEN_INVALID')
})

t.test('within the clock skew an expired token is still accepted, as at Tessera', async (t) => {
  const key = makeKey()
  const { issuer } = await startLocalIssuer(t, { keys: [key] })
  const verifier = createVerifier({ issuer, audience: 'api', clockSkew: 30, logger: recordingLogger().logger })
  t.teardown(() => verifier.close())
  const now = Math.floor(Date.now() / 1000)
  t.equal((await verifier.verify(await signToken(key, issuer, { iat: now - 915, ttl: 900 }))).username, 'alice')
})

t.test('algorithms pins what the kit accepts: a key of another algorithm is ignored', async (t) => {
  const es = makeKey('ES256')
  const rs = makeKey('RS256')
  const { issuer } = await startLocalIssuer(t, { keys: [es, rs] })
  const { lines, logger } = recordingLogger()
  const verifier = createVerifier({ issuer, audience: 'api', algorithms: ['ES256'], logger })
  t.teardown(() => verifier.close())
  t.equal((await verifier.verify(await signToken(es, issuer))).username, 'alice')
  t.equal((await rejection(verifier.verify(await signToken(rs, issuer))))?.code, 'TOKEN_INVALID')
  t.ok(lines.some((line) => line.level === 'warn' && /ignoring a JWKS key/.test(line.message)))
})

t.test('a discovery document that names another issuer is not trusted', async (t) => {
  const { issuer, state } = await startLocalIssuer(t)
  state.discoveryIssuer = 'https://someone-else.example'
  const { lines, logger } = recordingLogger()
  const verifier = createVerifier({ issuer, audience: 'api', logger })
  t.teardown(() => verifier.close())
  t.equal((await rejection(verifier.verify(await signToken(state.keys[0]!, issuer))))?.code, 'TOKEN_INVALID')
  t.equal(state.jwksFetches, 0, 'its jwks_uri is never fetched')
  t.ok(lines.some((line) => /expected/.test(String((line.object as { reason?: string }).reason))))
})

t.test('jwksUri skips discovery', async (t) => {
  const { issuer, state } = await startLocalIssuer(t)
  const verifier = createVerifier({ issuer, audience: 'api', jwksUri: `${issuer}/jwks.json`, logger: recordingLogger().logger })
  t.teardown(() => verifier.close())
  await verifier.verify(await signToken(state.keys[0]!, issuer))
  t.equal(state.discoveryFetches, 0)
})

t.test('bad options stop the start with every problem named', async (t) => {
  const error = t.throws(() => createVerifier({
    issuer: 'ftp://x',
    audience: '',
    algorithms: ['HS256' as 'ES256'],
    clockSkew: -1,
    revocations: { onUnavailable: 'maybe' as 'keep', interval: 0 }
  })) as VerifierOptionsError
  t.ok(error instanceof VerifierOptionsError)
  t.match(error.problems, [/issuer/, /audience/, /algorithms/, /clockSkew/, /onUnavailable/, /revocations.interval/])
})

const claimsAt = (issuer: string, now: number) => ({ iss: issuer, aud: 'api', sub: 'x', iat: now, exp: now + 60, jti: 'j', username: 'a', roles: [] })

/** The classic confusion: the verifier's public key, as published, used as an HMAC secret. */
async function hs256WithPublicKey (key: LocalKey, issuer: string, now: number) {
  const publicPem = Buffer.from(createPublicKey(key.privateKey).export({ type: 'spki', format: 'pem' }).toString())
  return await new SignJWT(claimsAt(issuer, now)).setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: 'at+jwt' }).sign(publicPem)
}

/** RFC 7515 §4.1.11: a critical extension the verifier does not understand must fail. */
async function withCrit (key: LocalKey, issuer: string, now: number) {
  return await new SignJWT(claimsAt(issuer, now))
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', crit: ['exp-x'], 'exp-x': 1 })
    .sign(key.privateKey, { crit: { 'exp-x': true } })
}

function tamper (token: string) {
  const [header, payload, signature] = token.split('.')
  const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<string, unknown>
  return `${header}.${b64({ ...claims, roles: ['admin'] })}.${signature}`
}
