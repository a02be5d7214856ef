import { constants, createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import type { App } from '../../src/app.js'
import { ALGORITHMS, type Algorithm, type Config } from '../../src/config.js'
import { buildTestApp, frozenClock } from '../helper.js'

/**
 * Crafted tokens against the verify hook. Each one is signed with node:crypto, by default with the server's REAL
 * private key (read from its KEYS_DIR) and with correct claims, so that only the property under test is wrong:
 * the baseline test proves such a token is accepted, and every hostile one must be a 401 for its own reason.
 */

type TokenCode = 'TOKEN_INVALID' | 'TOKEN_EXPIRED'
type Json = Record<string, unknown>

const MESSAGES: Record<TokenCode, string> = {
  TOKEN_INVALID: 'The access token is invalid',
  TOKEN_EXPIRED: 'The access token has expired'
}

const b64 = (data: string | Buffer) => Buffer.from(data).toString('base64url')
const segment = (value: unknown) => b64(typeof value === 'string' ? value : JSON.stringify(value))

type Signer = (input: string) => Buffer

/** A JWS signature as RFC 7518 §3 defines it for `alg`, made with `key`. */
function signer (alg: string, key: KeyObject): Signer {
  const hash = `sha${alg.slice(2)}`
  if (alg === 'EdDSA') return (input) => sign(null, Buffer.from(input), key)
  if (alg.startsWith('ES')) return (input) => sign(hash, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
  if (alg.startsWith('PS')) {
    return (input) => sign(hash, Buffer.from(input), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST })
  }
  return (input) => sign(hash, Buffer.from(input), key)
}

/** HS256/384/512 with an arbitrary secret: the algorithm-confusion attack feeds it the server's public key. */
function hmac (alg: string, secret: string): Signer {
  return (input) => createHmac(`sha${alg.slice(2)}`, secret).update(input).digest()
}

/** header.payload.signature; raw strings are used as the segment's JSON text as is. */
function compact (header: unknown, payload: unknown, sign: Signer | null): string {
  const input = `${segment(header)}.${segment(payload)}`
  return `${input}.${sign ? b64(sign(input)) : ''}`
}

function attackerKey (alg: Algorithm): KeyObject {
  if (alg === 'ES256') return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
  if (alg === 'EdDSA') return generateKeyPairSync('ed25519').privateKey
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
}

interface ServerKey { kid: string, alg: Algorithm, privateKey: KeyObject, publicKey: KeyObject }

async function readServerKey (keysDir: string): Promise<ServerKey> {
  const files = (await readdir(keysDir)).filter((name) => name.endsWith('.key.json'))
  if (files.length !== 1) throw new Error(`expected one key file in ${keysDir}, found ${files.length}`)
  const file = JSON.parse(await readFile(join(keysDir, files[0] ?? ''), 'utf8')) as { kid: string, alg: Algorithm, privateKey: string }
  const privateKey = createPrivateKey(file.privateKey)
  return { kid: file.kid, alg: file.alg, privateKey, publicKey: createPublicKey(privateKey) }
}

interface Target {
  app: App
  config: Config
  logs: string[]
  key: ServerKey
  /** Seconds, from the app's frozen clock. */
  now: number
  header (changes?: Json): Json
  claims (changes?: Json): Json
  /** Correct header and claims with `changes` applied (an undefined value drops the member), signed with the real key. */
  token (changes?: { header?: Json, claims?: Json }): string
}

async function buildTarget (t: Test, alg: Algorithm): Promise<Target> {
  const clock = frozenClock()
  const { app, config, logs } = await buildTestApp(t, { JWT_ALG: alg }, { clock })
  const key = await readServerKey(config.keysDir)
  const now = Math.floor(clock.now() / 1000)
  const header = (changes: Json = {}) => ({ alg, typ: 'at+jwt', kid: key.kid, ...changes })
  const claims = (changes: Json = {}) => ({
    iss: config.issuer,
    aud: config.audience,
    sub: '7d3f2a1e-5b6c-4d8e-9f0a-1b2c3d4e5f60',
    iat: now - 60,
    exp: now - 60 + config.accessTokenTtl,
    jti: 'b1a6a0c4-0f59-4c4e-8d1e-3c1b0f7a9e21',
    sid: 'session-1',
    username: 'mallory',
    roles: ['user'],
    ...changes
  })
  return {
    app,
    config,
    logs,
    key,
    now,
    header,
    claims,
    token: (changes = {}) => compact(header(changes.header), claims(changes.claims), signer(alg, key.privateKey))
  }
}

async function me (target: Target, authorization: string) {
  return await target.app.inject({ method: 'GET', url: '/auth/me', headers: { authorization } })
}

/** The internal reason of the last refusal: logged for operators, never sent to the client. */
function lastReason (logs: string[]): string {
  const line = logs.map((text) => JSON.parse(text) as Json).filter((entry) => entry['msg'] === 'request rejected').at(-1)
  return String(line?.['reason'] ?? '')
}

async function assertAccepted (t: Test, target: Target, token: string) {
  const response = await me(target, `Bearer ${token}`)
  t.equal(response.statusCode, 200, `accepted (${response.body})`)
  t.equal(response.json<{ user: { id: string } }>().user.id, target.claims()['sub'])
}

/** 401 with the stable code, our fixed message, an invalid_token challenge; the reason, when given, is only in the log. */
async function assertRefused (t: Test, target: Target, token: string, { code = 'TOKEN_INVALID', reason }: { code?: TokenCode, reason?: RegExp } = {}) {
  const before = target.logs.length
  const response = await me(target, `Bearer ${token}`)
  t.equal(response.statusCode, 401, 'answered 401, never 5xx')
  const body = response.json<Json>()
  t.same(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode'], 'the one error shape')
  t.equal(body['code'], code)
  t.equal(body['message'], MESSAGES[code], 'a fixed message, not the library\'s')
  t.match(String(response.headers['www-authenticate']), /^Bearer realm="[^"]+", error="invalid_token"/)
  if (reason) t.match(lastReason(target.logs.slice(before)), reason, 'refused for the reason under test')
  if (token.length > 40) t.notOk(target.logs.some((line) => line.includes(token)), 'the token is never logged')
}

for (const alg of ALGORITHMS) {
  t.test(`${alg} instance`, async (t) => {
    const target = await buildTarget(t, alg)

    t.test('baseline: a token forged with the real key and correct claims is accepted', async (t) => {
      await assertAccepted(t, target, target.token())
    })

    t.test('alg "none" in every spelling, with and without a signature segment', async (t) => {
      const real = target.token().split('.')[2] ?? ''
      for (const none of ['none', 'None', 'NONE', 'nOnE']) {
        const unsigned = compact(target.header({ alg: none }), target.claims(), null)
        await t.test(`${none}, empty signature`, async (t) => await assertRefused(t, target, unsigned))
        await t.test(`${none}, no third segment`, async (t) => await assertRefused(t, target, unsigned.slice(0, -1)))
        await t.test(`${none}, the real signature of another token`, async (t) => await assertRefused(t, target, unsigned + real))
        await t.test(`${none}, roles tampered to admin`, async (t) => {
          await assertRefused(t, target, compact(target.header({ alg: none }), target.claims({ roles: ['admin'] }), null))
        })
      }
    })

    t.test('HMAC keyed with the server\'s public key (algorithm confusion)', async (t) => {
      const pem = target.key.publicKey.export({ type: 'spki', format: 'pem' }).toString()
      const jwks = (await target.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json<{ keys: Json[] }>()
      const served = jwks.keys.find((jwk) => jwk['kid'] === target.key.kid)
      t.ok(served, 'the attacker reads the public key from the JWKS')
      const secrets = { 'SPKI PEM': pem, 'SPKI PEM without the final newline': pem.trimEnd(), 'JWK JSON from the JWKS': JSON.stringify(served) }
      for (const hs of ['HS256', 'HS384', 'HS512']) {
        for (const [form, secret] of Object.entries(secrets)) {
          await t.test(`${hs} with the ${form}`, async (t) => {
            await assertRefused(t, target, compact(target.header({ alg: hs }), target.claims({ roles: ['admin'] }), hmac(hs, secret)))
          })
        }
      }
    })

    t.test('forged signatures', async (t) => {
      const good = target.token()
      const [h, p] = good.split('.')
      const size = Buffer.from(good.split('.')[2] ?? '', 'base64url').length
      await t.test(`all-zero signature of the right length (${size} bytes)`, async (t) => {
        await assertRefused(t, target, `${h}.${p}.${b64(Buffer.alloc(size))}`)
      })
      await t.test('empty signature', async (t) => await assertRefused(t, target, `${h}.${p}.`))
      await t.test('one bit flipped', async (t) => {
        const bytes = Buffer.from(good.split('.')[2] ?? '', 'base64url')
        bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1
        await assertRefused(t, target, `${h}.${p}.${b64(bytes)}`)
      })
      await t.test('signature of another valid token', async (t) => {
        const other = target.token({ claims: { jti: 'another' } }).split('.')[2]
        await assertRefused(t, target, `${h}.${p}.${other}`)
      })
      await t.test('attacker\'s own key under the real kid', async (t) => {
        const token = compact(target.header(), target.claims({ roles: ['admin'] }), signer(alg, attackerKey(alg)))
        await assertRefused(t, target, token, { reason: /signature/i })
      })
    })

    t.test('tampering with a validly signed token', async (t) => {
      const [h, p, s] = target.token().split('.')
      await t.test('roles changed to ["admin"], original signature', async (t) => {
        await assertRefused(t, target, `${h}.${segment(target.claims({ roles: ['admin'] }))}.${s}`, { reason: /signature/i })
      })
      await t.test('sub changed, original signature', async (t) => {
        await assertRefused(t, target, `${h}.${segment(target.claims({ sub: 'someone-else' }))}.${s}`, { reason: /signature/i })
      })
      await t.test('header changed (extra member), original signature', async (t) => {
        await assertRefused(t, target, `${segment(target.header({ cty: 'JWT' }))}.${p}.${s}`, { reason: /signature/i })
      })
      await t.test('header re-encoded with other whitespace, original signature', async (t) => {
        await assertRefused(t, target, `${segment(JSON.stringify(target.header(), null, 1))}.${p}.${s}`, { reason: /signature/i })
      })
    })

    t.test('headers that would choose the verification key are never honoured (RFC 8725 §3.10)', async (t) => {
      const attacker = attackerKey(alg)
      const attackerJwk = { ...createPublicKey(attacker).export({ format: 'jwk' }), kid: target.key.kid, alg }
      // A JWKS an attacker controls: if the hook ever followed jku or x5u, this server would see the request.
      let fetched = 0
      const server = createServer((_request, response) => {
        fetched++
        response.setHeader('content-type', 'application/json')
        response.end(JSON.stringify({ keys: [attackerJwk] }))
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      t.teardown(() => { server.close() })
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`
      const fakeCert = randomBytes(300).toString('base64')
      const headers: Record<string, Json> = {
        jwk: { jwk: attackerJwk },
        jku: { jku: url },
        x5u: { x5u: url },
        x5c: { x5c: [fakeCert] }
      }
      for (const [name, extra] of Object.entries(headers)) {
        await t.test(`${name}, signed by the attacker's key`, async (t) => {
          await assertRefused(t, target, compact(target.header(extra), target.claims({ roles: ['admin'] }), signer(alg, attacker)))
        })
        await t.test(`${name}, signed by the real key: refused for the header alone`, async (t) => {
          await assertRefused(t, target, target.token({ header: extra }), { reason: new RegExp(`${name} header`) })
        })
      }
      t.equal(fetched, 0, 'no key URL was ever fetched')
    })

    t.test('only the configured algorithm is accepted, even with the real key', async (t) => {
      const others: Record<Algorithm, string[]> = { ES256: ['ES384', 'ES512'], EdDSA: ['Ed25519'], RS256: ['RS384', 'RS512', 'PS256'] }
      for (const other of others[alg]) {
        await t.test(other, async (t) => {
          const sign = other === 'Ed25519' ? signer('EdDSA', target.key.privateKey) : signer(other, target.key.privateKey)
          await assertRefused(t, target, compact(target.header({ alg: other }), target.claims(), sign))
        })
      }
    })
  })
}

t.test('ES256 "psychic signatures" (CVE-2022-21449): zero and out-of-range r and s', async (t) => {
  const target = await buildTarget(t, 'ES256')
  const [h, p, s] = target.token({ claims: { roles: ['admin'] } }).split('.')
  const real = Buffer.from(s ?? '', 'base64url')
  // The order n of the P-256 group: r = s = n is zero modulo n.
  const n = Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex')
  const zero = Buffer.alloc(32)
  const forms: Record<string, Buffer> = {
    'r = s = 0 (64 zero bytes)': Buffer.alloc(64),
    'r = s = 0, DER SEQUENCE { INTEGER 0, INTEGER 0 }': Buffer.from('3006020100020100', 'hex'),
    'r = s = 0, DER with 32-byte integers': Buffer.concat([Buffer.from('30440220', 'hex'), zero, Buffer.from('0220', 'hex'), zero]),
    'r = s = n': Buffer.concat([n, n]),
    'r = 0, real s': Buffer.concat([zero, real.subarray(32)]),
    'real r, s = 0': Buffer.concat([real.subarray(0, 32), zero]),
    'a single zero byte': Buffer.alloc(1),
    '65 zero bytes': Buffer.alloc(65)
  }
  for (const [name, signature] of Object.entries(forms)) {
    await t.test(name, async (t) => await assertRefused(t, target, `${h}.${p}.${b64(signature)}`))
  }
})

t.test('claims and header values (signed with the real key)', async (t) => {
  const target = await buildTarget(t, 'ES256')
  const { config, now } = target
  const skew = config.clockSkew
  const ttl = config.accessTokenTtl

  await t.test('typ at+jwt and application/at+jwt are both accepted (RFC 9068 §4)', async (t) => {
    await assertAccepted(t, target, target.token({ header: { typ: 'at+jwt' } }))
    await assertAccepted(t, target, target.token({ header: { typ: 'application/at+jwt' } }))
  })
  await t.test('aud as an array that contains ours is accepted (RFC 7519 §4.1.3)', async (t) => {
    await assertAccepted(t, target, target.token({ claims: { aud: ['other', config.audience] } }))
  })
  await t.test('exp just inside the clock skew is accepted', async (t) => {
    await assertAccepted(t, target, target.token({ claims: { iat: now - ttl, exp: now - skew + 2 } }))
  })
  await t.test('nbf and iat just inside the clock skew are accepted', async (t) => {
    await assertAccepted(t, target, target.token({ claims: { nbf: now + skew - 2, iat: now + skew - 2, exp: now + skew - 2 + ttl } }))
  })

  const refused: Array<{ name: string, header?: Json, claims?: Json, code?: TokenCode, reason: RegExp }> = [
    { name: 'wrong iss', claims: { iss: 'https://evil.example' }, reason: /iss/ },
    { name: 'iss with a trailing slash', claims: { iss: `${config.issuer}/` }, reason: /iss/ },
    { name: 'wrong aud', claims: { aud: 'another-api' }, reason: /aud/ },
    { name: 'aud array without ours', claims: { aud: ['another-api', 'third'] }, reason: /aud/ },
    { name: 'typ JWT', header: { typ: 'JWT' }, reason: /typ/i },
    { name: 'typ missing', header: { typ: undefined }, reason: /typ/i },
    { name: 'typ application/jwt', header: { typ: 'application/jwt' }, reason: /typ/i },
    ...['exp', 'sub', 'iat', 'jti', 'iss', 'aud'].map((claim) => ({ name: `${claim} missing`, claims: { [claim]: undefined }, reason: new RegExp(claim) })),
    { name: 'username missing', claims: { username: undefined }, reason: /username/ },
    { name: 'roles missing', claims: { roles: undefined }, reason: /roles/ },
    { name: 'expired beyond the skew', claims: { iat: now - ttl - skew - 2, exp: now - skew - 2 }, code: 'TOKEN_EXPIRED', reason: /exp/ },
    { name: 'expired long ago', claims: { iat: 1_000_000_000, exp: 1_000_000_000 + ttl }, code: 'TOKEN_EXPIRED', reason: /exp/ },
    { name: 'nbf in the future beyond the skew', claims: { nbf: now + skew + 5 }, reason: /nbf/ },
    { name: 'nbf not a number', claims: { nbf: String(now) }, reason: /nbf/ },
    { name: 'iat in the future beyond the skew', claims: { iat: now + skew + 5, exp: now + skew + 5 + ttl }, reason: /iat/ },
    { name: 'lifetime longer than ACCESS_TOKEN_TTL', claims: { iat: now - 60, exp: now - 60 + ttl + 1 }, reason: /lifetime/ },
    { name: 'a year-long token', claims: { iat: now, exp: now + 365 * 86400 }, reason: /lifetime/ },
    { name: 'exp a string', claims: { exp: String(now + 60) }, reason: /exp/ },
    { name: 'iat a string', claims: { iat: String(now) }, reason: /iat/ },
    { name: 'unknown crit extension', header: { crit: ['x-tessera-unknown'], 'x-tessera-unknown': true }, reason: /crit|extension/i },
    { name: 'crit naming a registered header', header: { crit: ['exp'], exp: now + 60 }, reason: /crit/i },
    { name: 'crit empty', header: { crit: [] }, reason: /crit/i },
    { name: 'crit not a list', header: { crit: 'b64', b64: false }, reason: /crit/i },
    { name: 'crit null', header: { crit: null }, reason: /crit/i },
    { name: 'crit false', header: { crit: false }, reason: /crit/i },
    { name: 'roles a string', claims: { roles: 'admin' }, reason: /roles/ },
    { name: 'roles [1]', claims: { roles: [1] }, reason: /roles/ },
    { name: 'roles null', claims: { roles: null }, reason: /roles/ },
    { name: 'roles [null]', claims: { roles: [null] }, reason: /roles/ },
    { name: 'roles an object', claims: { roles: { 0: 'admin' } }, reason: /roles/ },
    { name: 'sub a number', claims: { sub: 42 }, reason: /sub/ },
    { name: 'sub null', claims: { sub: null }, reason: /sub/ },
    { name: 'sub empty', claims: { sub: '' }, reason: /sub/ },
    { name: 'sub a list', claims: { sub: ['a'] }, reason: /sub/ },
    { name: 'jti a number', claims: { jti: 7 }, reason: /jti/ },
    { name: 'username a number', claims: { username: 7 }, reason: /username/ },
    { name: 'sid a number', claims: { sid: 7 }, reason: /sid/ },
    { name: 'unknown kid', header: { kid: 'not-a-key-we-know' }, reason: /kid/ },
    { name: 'missing kid', header: { kid: undefined }, reason: /kid/ },
    { name: 'kid a number', header: { kid: 1 }, reason: /kid/ },
    { name: 'kid "__proto__"', header: { kid: '__proto__' }, reason: /kid/ }
  ]
  for (const { name, header, claims, code, reason } of refused) {
    await t.test(name, async (t) => {
      await assertRefused(t, target, target.token({ ...(header ? { header } : {}), ...(claims ? { claims } : {}) }), { ...(code ? { code } : {}), reason })
    })
  }

  await t.test('non-finite exp (1e400 parses as Infinity)', async (t) => {
    const text = JSON.stringify(target.claims()).replace(/"exp":\d+/, '"exp":1e400')
    await assertRefused(t, target, compact(target.header(), text, signer('ES256', target.key.privateKey)), { reason: /finite/ })
  })
  await t.test('non-finite iat and exp (-1e400)', async (t) => {
    const text = JSON.stringify(target.claims()).replace(/"exp":\d+/, '"exp":-1e400').replace(/"iat":\d+/, '"iat":-1e400')
    await assertRefused(t, target, compact(target.header(), text, signer('ES256', target.key.privateKey)), { reason: /finite/ })
  })
})

t.test('malformed tokens', async (t) => {
  const target = await buildTarget(t, 'ES256')
  const sign = signer('ES256', target.key.privateKey)
  const good = target.token()
  const [h, p, s] = good.split('.') as [string, string, string]

  const signedPayloads: Record<string, string> = {
    'array payload': '[]',
    'array payload of claims': JSON.stringify([target.claims()]),
    'null payload': 'null',
    'number payload': '42',
    'string payload': '"admin"',
    'boolean payload': 'true',
    'non-JSON payload': 'not json at all',
    'truncated JSON payload': JSON.stringify(target.claims()).slice(0, -1),
    'empty payload': ''
  }
  for (const [name, text] of Object.entries(signedPayloads)) {
    await t.test(`${name}, signed with the real key`, async (t) => await assertRefused(t, target, compact(target.header(), text, sign)))
  }
  const signedHeaders: Record<string, string> = {
    'array header': JSON.stringify([target.header()]),
    'null header': 'null',
    'non-JSON header': '{alg:ES256}'
  }
  for (const [name, text] of Object.entries(signedHeaders)) {
    await t.test(`${name}, signed with the real key`, async (t) => await assertRefused(t, target, compact(text, target.claims(), sign)))
  }

  const shapes: Record<string, string> = {
    'one segment': h,
    'two segments': `${h}.${p}`,
    'four segments': `${good}.${s}`,
    'five segments (JWE-shaped)': `${h}.${p}.${s}.${s}.${s}`,
    'only dots': '..',
    'empty header': `.${p}.${s}`,
    'empty payload segment': `${h}..${s}`,
    '= padding on the header': `${h}=.${p}.${s}`,
    '= padding on the payload': `${h}.${p}=.${s}`,
    '= padding on the signature': `${h}.${p}.${s}=`,
    '== padding on the signature': `${h}.${p}.${s}==`,
    'a dot-free blob': 'x'.repeat(200),
    'percent-encoded characters': `${h}.${p}.%41${s}`,
    'non-ASCII characters': `${h}.${p}.${s}é`,
    '8 KB of base64url in three segments': `${'A'.repeat(2731)}.${'B'.repeat(2731)}.${'C'.repeat(2731)}`,
    '8 KB payload with the real header and a bogus signature': `${h}.${segment(target.claims({ padding: 'x'.repeat(6000) }))}.${s}`
  }
  for (const [name, token] of Object.entries(shapes)) {
    await t.test(name, async (t) => await assertRefused(t, target, token))
  }

  await t.test('standard base64 alphabet (+ /) instead of base64url', async (t) => {
    // Pad a claim until the payload's base64url holds both '-' and '_', so that the rewrite certainly changes it.
    let token = ''
    for (let pad = 0; pad < 3 && !/-.*_|_.*-/.test(token.split('.')[1] ?? ''); pad++) {
      token = target.token({ claims: { note: `${' '.repeat(pad)}???>>>???>>>` } })
    }
    await assertAccepted(t, target, token)
    const [th, tp, ts] = token.split('.') as [string, string, string]
    const standard = `${th}.${tp.replaceAll('-', '+').replaceAll('_', '/')}.${ts}`
    t.not(standard, token, 'the rewrite changed the token')
    await assertRefused(t, target, standard)
  })

  await t.test('a space inside the token', async (t) => await assertRefused(t, target, `${h}.${p} .${s}`))
})
