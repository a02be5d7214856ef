import { Writable } from 'node:stream'
import t from 'tap'
import { createLogger, safeUrl } from '../src/logger.js'
import { bearer, buildTestApp, PASSWORD } from './helper.js'

interface LogLine { msg?: string, reqId?: string, event?: string, reason?: string, code?: string, req?: { url?: string } }

const parse = (lines: string[]) => lines.map((line) => JSON.parse(line) as LogLine)

t.test('no log line holds a password, a token or the Authorization header', async (t) => {
  const { app, logs } = await buildTestApp(t, { LOG_LEVEL: 'trace' })
  const secrets: Record<string, string> = {}

  const registered = await app.inject({ method: 'POST', url: '/auth/register', payload: { username: 'alice', password: PASSWORD } })
  t.equal(registered.statusCode, 201)
  secrets['password'] = PASSWORD

  const login = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'alice', password: PASSWORD } })
  t.equal(login.statusCode, 200)
  const tokens = login.json<{ access_token: string, refresh_token: string }>()
  secrets['access token'] = tokens.access_token
  secrets['access token signature'] = tokens.access_token.split('.')[2] ?? ''
  secrets['refresh token'] = tokens.refresh_token
  secrets['Authorization header'] = bearer(tokens.access_token).authorization

  t.equal((await app.inject({ method: 'GET', url: '/auth/me', headers: bearer(tokens.access_token) })).statusCode, 200)

  const refreshed = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: tokens.refresh_token } })
  t.equal(refreshed.statusCode, 200)
  const next = refreshed.json<{ access_token: string, refresh_token: string }>()
  secrets['refreshed access token'] = next.access_token
  secrets['refreshed refresh token'] = next.refresh_token

  const wrongPassword = 'Tr0ub4dor&3-not-it'
  secrets['wrong password'] = wrongPassword
  t.equal((await app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'alice', password: wrongPassword } })).statusCode, 401)

  const inQuery = await app.inject({ method: 'GET', url: `/auth/me?access_token=${next.access_token}&x=1` })
  t.equal(inQuery.statusCode, 401, 'a token in the query string is not read')
  t.equal(inQuery.json().code, 'TOKEN_MISSING')

  const tampered = `${next.access_token.slice(0, -4)}AAAA`
  secrets['tampered token'] = tampered
  t.equal((await app.inject({ method: 'GET', url: '/auth/me', headers: bearer(tampered) })).statusCode, 401)

  const newPassword = 'a whole new passphrase'
  secrets['new password'] = newPassword
  const changed = await app.inject({
    method: 'POST', url: '/auth/password', headers: bearer(next.access_token), payload: { current_password: PASSWORD, new_password: newPassword }
  })
  t.equal(changed.statusCode, 204)

  t.ok(logs.length > 10, `the logs were captured (${logs.length} lines)`)
  for (const [name, secret] of Object.entries(secrets)) {
    t.ok(secret.length >= 8, `${name} is a real value`)
    const leaks = logs.filter((line) => line.includes(secret))
    t.same(leaks, [], `no log line contains the ${name}`)
  }

  const lines = parse(logs)
  t.ok(lines.some((line) => line.event === 'login_succeeded'), 'login success is logged')
  t.ok(lines.some((line) => line.event === 'login_failed' && line.reason === 'wrong password'), 'login failure is logged with its reason')
  t.ok(lines.some((line) => line.code === 'TOKEN_MISSING' && typeof line.reason === 'string'), 'the missing token is logged with a reason')
  t.ok(lines.some((line) => line.code === 'TOKEN_INVALID' && typeof line.reason === 'string' && line.reason.length > 0),
    'the rejected token is logged with its internal reason')
  t.ok(lines.some((line) => line.req?.url === '/auth/me?access_token=[Redacted]&x=1'), 'the query token is blanked in the logged URL')
  const access = lines.filter((line) => line.msg === 'request completed')
  t.ok(access.length >= 6, `one access line per request (${access.length})`)
  t.ok(access.every((line) => typeof line.reqId === 'string' && line.reqId.length > 0), 'access lines carry the request id')
  t.equal(new Set(access.map((line) => line.reqId)).size, access.length, 'one id per request')
})

t.test('a failed login of an unknown user is logged as such, without the password', async (t) => {
  const { app, logs } = await buildTestApp(t)
  const response = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'nobody', password: 'guessing-password-1' } })
  t.equal(response.statusCode, 401)
  t.ok(parse(logs).some((line) => line.event === 'login_failed' && line.reason === 'unknown user'))
  t.notOk(logs.some((line) => line.includes('guessing-password-1')))
})

t.test('the logger itself blanks secrets wherever they are logged', async (t) => {
  const lines: string[] = []
  const sink = new Writable({ write (chunk, _encoding, callback) { lines.push(chunk.toString()); callback() } })
  const logger = createLogger('info', sink)
  logger.info({
    password: 'pw-top-level',
    body: { password: 'pw-in-body', refresh_token: 'rt-in-body' },
    headers: { authorization: 'Bearer header-token', cookie: 'sid=cookie-value' },
    req: { headers: { authorization: 'Bearer req-header-token' } },
    payload: { access_token: 'at-in-payload', new_password: 'new-pw', current_password: 'old-pw' }
  }, 'something happened')
  t.equal(lines.length, 1)
  for (const secret of ['pw-top-level', 'pw-in-body', 'rt-in-body', 'header-token', 'cookie-value', 'req-header-token', 'at-in-payload', 'new-pw', 'old-pw']) {
    t.notOk(lines[0]?.includes(secret), `${secret} is redacted`)
  }
  t.match(lines[0], /\[Redacted\]/)
})

t.test('safeUrl blanks token- and password-like query values only', async (t) => {
  t.equal(safeUrl('/auth/me?access_token=abc.def.ghi'), '/auth/me?access_token=[Redacted]')
  t.equal(safeUrl('/x?a=1&refresh_token=r&b=2&password=p#frag'), '/x?a=1&refresh_token=[Redacted]&b=2&password=[Redacted]#frag')
  t.equal(safeUrl('/x?ACCESS_TOKEN=abc'), '/x?ACCESS_TOKEN=[Redacted]')
  t.equal(safeUrl('/x?page=2'), '/x?page=2')
})
