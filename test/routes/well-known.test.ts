import t from 'tap'
import { buildTestApp, registerAndLogin } from '../helper.js'

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth']

for (const [alg, kty] of [['ES256', 'EC'], ['EdDSA', 'OKP'], ['RS256', 'RSA']] as const) {
  t.test(`JWKS (${alg}) publishes only public members, cacheably`, async (t) => {
    const { app } = await buildTestApp(t, { JWT_ALG: alg })
    const response = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })
    t.equal(response.statusCode, 200)
    t.match(response.headers['content-type'], /^application\/json/)
    t.match(response.headers['cache-control'], /^public, max-age=[1-9]\d*$/)
    const { keys } = response.json<{ keys: Array<Record<string, string>> }>()
    t.equal(keys.length, 1)
    for (const key of keys) {
      for (const member of PRIVATE_MEMBERS) t.notOk(member in key, `no "${member}" member`)
      t.equal(key['kty'], kty)
      t.equal(key['alg'], alg)
      t.equal(key['use'], 'sig')
      t.equal(key['kid'], app.services.keyring.signingKey().kid)
    }
    for (const secret of PRIVATE_MEMBERS) t.notMatch(response.body, new RegExp(`"${secret}":`), `no "${secret}" anywhere in the body`)

    const tokens = await registerAndLogin(app)
    const header = JSON.parse(Buffer.from(tokens.access_token.split('.')[0] ?? '', 'base64url').toString()) as Record<string, string>
    t.equal(header['alg'], alg, 'tokens are signed with the configured algorithm')
    t.ok(keys.some((key) => key['kid'] === header['kid']), 'and with a published key')
  })
}

t.test('openid-configuration points at the issuer and its JWKS', async (t) => {
  const { app } = await buildTestApp(t, { AUTH_ISSUER: 'https://auth.example.com/' })
  const response = await app.inject({ method: 'GET', url: '/.well-known/openid-configuration' })
  t.equal(response.statusCode, 200)
  t.match(response.headers['cache-control'], /^public, max-age=\d+$/)
  const metadata = response.json<Record<string, unknown>>()
  t.equal(metadata['issuer'], 'https://auth.example.com', 'the issuer exactly as configured, minus the trailing slash')
  t.equal(metadata['jwks_uri'], 'https://auth.example.com/.well-known/jwks.json')
  t.same(metadata['id_token_signing_alg_values_supported'], ['ES256'])

  const tokens = await registerAndLogin(app)
  const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, string>
  t.equal(claims['iss'], metadata['issuer'], 'tokens carry the very issuer the discovery document names')
})

t.test('openid-configuration defaults to http://localhost:3000', async (t) => {
  const { app } = await buildTestApp(t)
  const metadata = (await app.inject({ method: 'GET', url: '/.well-known/openid-configuration' })).json<Record<string, unknown>>()
  t.equal(metadata['issuer'], 'http://localhost:3000')
  t.equal(metadata['jwks_uri'], 'http://localhost:3000/.well-known/jwks.json')
})

t.test('the well-known routes take no token and ignore one', async (t) => {
  const { app } = await buildTestApp(t)
  const response = await app.inject({ method: 'GET', url: '/.well-known/jwks.json', headers: { authorization: 'Bearer garbage' } })
  t.equal(response.statusCode, 200)
})
