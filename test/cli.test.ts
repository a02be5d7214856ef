import { execFile, spawn } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { bearer, buildTestApp, PASSWORD, register } from './helper.js'

/**
 * The CLI is tested as operators run it: compiled, in its own process. The build goes to a private folder
 * (same tsconfig as `npm run build`), so the test runs the current sources and never races a build of dist/.
 */
const root = fileURLToPath(new URL('..', import.meta.url))
const buildDir = join(t.testdir({}), 'dist')
await promisify(execFile)(process.execPath, [
  join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json'),
  '--outDir', buildDir, '--tsBuildInfoFile', join(buildDir, '.tsbuildinfo')
], { cwd: root })
const CLI = join(buildDir, 'cli.js')

interface Run { code: number | null, stdout: string, stderr: string }

/** Runs the compiled CLI with only the variables given (no inherited configuration), stdin as a pipe. */
async function cli (dir: string, args: string[], { input = '', env = {} }: { input?: string, env?: Record<string, string> } = {}): Promise<Run> {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: dir,
    env: { PATH: process.env['PATH'] ?? '', KEYS_DIR: join(dir, 'keys'), DATABASE_URL: `sqlite:${join(dir, 'auth.db')}`, ...env },
    stdio: ['pipe', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  child.stdin.end(input)
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', resolve)
  })
  return { code, stdout, stderr }
}

const json = <T = Record<string, unknown>>(run: Run): T => JSON.parse(run.stdout) as T
const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>

interface KeyRow { kid: string, status: string, retiredAt: string | null, activatesAt: string }

t.test('--help works on the program, every group and every command, and says how to exit', async (t) => {
  const dir = t.testdir()
  const main = await cli(dir, ['--help'])
  t.equal(main.code, 0)
  t.match(main.stdout, /Exit codes: 0 success, 1 .*, 2 usage error/)
  // Independent runs go in parallel: each is a whole Node start-up.
  const commands = [
    ...['generate', 'rotate', 'list', 'retire'].map((command) => ['keys', command]),
    ...['add', 'list', 'disable', 'enable', 'set-roles', 'reset-password'].map((command) => ['users', command])
  ]
  const runs = await Promise.all(commands.map(async (args) => await cli(dir, [...args, '--help'])))
  runs.forEach((run, i) => {
    const [group, command] = commands[i] ?? []
    t.equal(run.code, 0, `${group} ${command} --help`)
    t.match(run.stdout, new RegExp(`^  ${command}\\b`, 'm'), `${group} ${command} is described`)
  })
  const bare = await cli(dir, [])
  t.equal(bare.code, 2, 'no command at all is a usage error')
  t.match(bare.stdout, /Usage:/)
})

t.test('usage errors exit 2 with a message on stderr and nothing on stdout', async (t) => {
  const dir = t.testdir()
  const cases = [
    ['bogus'],
    ['keys'],
    ['keys', 'bogus'],
    ['users', 'bogus'],
    ['users', 'list', '--bogus'],
    ['users', 'disable'],
    ['users', 'disable', 'alice', 'bob'],
    ['users', 'set-roles', 'alice'],
    ['users', 'add', 'x'],
    ['keys', 'retire'],
    ['keys', 'rotate', '--activate-in', 'soon'],
    ['migrate', 'now']
  ]
  // One folder each, so parallel runs never race on one fresh database.
  const runs = await Promise.all(cases.map(async (args, i) => {
    const own = join(dir, String(i))
    mkdirSync(own)
    return await cli(own, args)
  }))
  cases.forEach((args, i) => {
    const run = runs[i] ?? { code: null, stdout: '', stderr: '' }
    t.equal(run.code, 2, args.join(' '))
    t.equal(run.stdout, '', `${args.join(' ')}: nothing on stdout`)
    t.match(run.stderr, /^tessera: .+\nRun with --help for usage\.\n$/, `${args.join(' ')}: says why`)
  })
})

t.test('a bad configuration exits 1 and names the variable', async (t) => {
  const run = await cli(t.testdir(), ['users', 'list'], { env: { DATABASE_URL: 'mysql://nope' } })
  t.equal(run.code, 1)
  t.match(run.stderr, /DATABASE_URL/)
})

t.test('migrate applies migrations, in words or as JSON', async (t) => {
  const dir = t.testdir()
  const human = await cli(dir, ['migrate'])
  t.equal(human.code, 0)
  t.equal(human.stdout, 'migrations applied (sqlite)\n')
  const machine = await cli(dir, ['migrate', '--json'])
  t.equal(machine.code, 0, 'migrating twice is fine')
  t.same(json(machine), { migrated: true, store: 'sqlite' })
})

t.test('keys generate, list, rotate and retire manage KEYS_DIR the service signs from', async (t) => {
  const dir = t.testdir()
  const empty = await cli(dir, ['keys', 'list', '--json'])
  t.equal(empty.code, 0)
  t.same(json(empty), { keys: [], errors: [] })

  const generated = await cli(dir, ['keys', 'generate', '--json'])
  t.equal(generated.code, 0, generated.stderr)
  const first = json<{ kid: string, alg: string }>(generated)
  t.equal(first.alg, 'ES256')

  const { app } = await buildTestApp(t, {}, { dir })
  t.equal(app.services.keyring.signingKey().kid, first.kid, 'the service signs with the generated key')

  const rotated = await cli(dir, ['keys', 'rotate', '--json'])
  t.equal(rotated.code, 0, rotated.stderr)
  const next = json<{ kid: string, activatesAt: string }>(rotated)
  const listed = json<{ keys: KeyRow[] }>(await cli(dir, ['keys', 'list', '--json'])).keys
  t.equal(listed.find((k) => k.kid === first.kid)?.status, 'active')
  t.equal(listed.find((k) => k.kid === next.kid)?.status, 'next', 'a rotated key is published before it signs')
  t.ok(Date.parse(next.activatesAt) - Date.now() > 300_000, 'by default it signs only after the JWKS max-age has passed')
  await app.services.keyring.reload()
  const jwks = (await app.inject('/.well-known/jwks.json')).json<{ keys: Array<{ kid: string }> }>()
  t.same(jwks.keys.map((k) => k.kid).sort(), [first.kid, next.kid].sort(), 'the JWKS publishes the next key at once')
  t.equal(app.services.keyring.signingKey().kid, first.kid, 'the next key does not sign yet')

  const human = await cli(dir, ['keys', 'list'])
  t.match(human.stdout, /^KID\s+ALG\s+STATUS/)
  t.match(human.stdout, new RegExp(`${next.kid}\\s+ES256\\s+next`))

  const active = await cli(dir, ['keys', 'retire', first.kid])
  t.equal(active.code, 1, 'retiring the signing key is refused')
  t.match(active.stderr, /active signing key/)
  const unknown = await cli(dir, ['keys', 'retire', 'no-such-kid'])
  t.equal(unknown.code, 1)
  t.match(unknown.stderr, /no key with kid no-such-kid/)

  const now = await cli(dir, ['keys', 'rotate', '--activate-in', '0', '--json'])
  t.equal(now.code, 0)
  t.match(now.stderr, /warning: .*shorter than the JWKS max-age/, 'an immediate rotation warns about caches')
  const third = json<{ kid: string }>(now).kid
  const early = await cli(dir, ['keys', 'retire', first.kid])
  t.equal(early.code, 1, 'a key that may still have live tokens is kept')
  t.match(early.stderr, /may still have live tokens/)
  const forced = await cli(dir, ['keys', 'retire', first.kid, '--force', '--json'])
  t.equal(forced.code, 0, forced.stderr)
  t.equal(json<{ kid: string }>(forced).kid, first.kid)

  await app.services.keyring.reload()
  t.equal(app.services.keyring.signingKey().kid, third, 'the service signs with the key that activated last')
  const after = (await app.inject('/.well-known/jwks.json')).json<{ keys: Array<{ kid: string }> }>()
  t.notOk(after.keys.some((k) => k.kid === first.kid), 'a retired key leaves the JWKS')
})

t.test('users add reads the password from stdin and the user can log in with it', async (t) => {
  const dir = t.testdir()
  const { app } = await buildTestApp(t, {}, { dir })
  const added = await cli(dir, ['users', 'add', 'carol', '--role', 'admin', '--role', 'user', '--json'], { input: `${PASSWORD}\n` })
  t.equal(added.code, 0, added.stderr)
  const { user } = json<{ user: { id: string, username: string, roles: string[] } }>(added)
  t.match(user, { username: 'carol', roles: ['admin', 'user'] })

  const login = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'carol', password: PASSWORD } })
  t.equal(login.statusCode, 200, 'the trailing newline of the pipe is not part of the password')
  t.same(claims(login.json().access_token)['roles'], ['admin', 'user'])

  const human = await cli(dir, ['users', 'add', 'dave'], { input: PASSWORD })
  t.equal(human.code, 0)
  t.match(human.stdout, /^created dave \([0-9a-f-]{36}\) with roles user\n$/)

  const taken = await cli(dir, ['users', 'add', 'CAROL'], { input: PASSWORD })
  t.equal(taken.code, 1, 'usernames are unique whatever their case')
  t.match(taken.stderr, /taken/)
  const weak = await cli(dir, ['users', 'add', 'erin'], { input: 'short' })
  t.equal(weak.code, 1)
  t.match(weak.stderr, /PASSWORD_TOO_SHORT: .*at least 8 characters/, 'the same password policy as the API')
  const badRole = await cli(dir, ['users', 'add', 'erin', '--role', 'root!'], { input: PASSWORD })
  t.equal(badRole.code, 2, 'add refuses a role that set-roles would refuse')

  const list = json<{ users: Array<{ username: string, roles: string[], disabled: boolean }> }>(await cli(dir, ['users', 'list', '--json']))
  t.same(list.users.map(({ username, roles, disabled }) => ({ username, roles, disabled })), [
    { username: 'carol', roles: ['admin', 'user'], disabled: false },
    { username: 'dave', roles: ['user'], disabled: false }
  ], 'only the users that were created, nothing from the refused attempts')
  const table = await cli(dir, ['users', 'list'])
  t.match(table.stdout, /^USERNAME\s+ID\s+ROLES\s+STATE\s+CREATED\ncarol\s+\S+\s+admin,user\s+active/)
})

t.test('users disable refuses logins through the app and revokes every session; enable allows logins again', async (t) => {
  const dir = t.testdir()
  const { app } = await buildTestApp(t, {}, { dir })
  await register(app, 'alice')
  const login = async () => await app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'alice', password: PASSWORD } })
  const sessions = [(await login()).json(), (await login()).json()]

  const disabled = await cli(dir, ['users', 'disable', 'alice', '--json'])
  t.equal(disabled.code, 0, disabled.stderr)
  t.same(json(disabled), { username: 'alice', disabled: true, sessionsEnded: 2 })

  const refused = await login()
  t.equal(refused.statusCode, 401)
  t.equal(refused.json().code, 'INVALID_CREDENTIALS', 'a disabled user looks like any failed login')
  for (const session of sessions) {
    const refresh = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: session.refresh_token } })
    t.equal(refresh.statusCode, 401, 'the session was revoked')
    t.equal(refresh.json().code, 'REFRESH_TOKEN_INVALID')
  }
  const list = json<{ users: Array<{ disabled: boolean }> }>(await cli(dir, ['users', 'list', '--json']))
  t.equal(list.users[0]?.disabled, true)

  const enabled = await cli(dir, ['users', 'enable', 'alice'])
  t.equal(enabled.code, 0)
  t.equal(enabled.stdout, 'enabled alice\n')
  t.equal((await login()).statusCode, 200)

  const missing = await cli(dir, ['users', 'disable', 'nobody'])
  t.equal(missing.code, 1)
  t.match(missing.stderr, /no user named nobody/)
})

t.test('users set-roles: the next token carries the new roles', async (t) => {
  const dir = t.testdir()
  const { app } = await buildTestApp(t, {}, { dir })
  await register(app, 'alice')
  const set = await cli(dir, ['users', 'set-roles', 'alice', 'admin', 'auditor', 'admin', '--json'])
  t.equal(set.code, 0, set.stderr)
  t.same(json(set), { username: 'alice', roles: ['admin', 'auditor'] })

  const tokens = (await app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'alice', password: PASSWORD } })).json()
  t.same(claims(tokens.access_token)['roles'], ['admin', 'auditor'])
  const me = await app.inject({ method: 'GET', url: '/auth/me', headers: bearer(tokens.access_token) })
  t.same(me.json().user.roles, ['admin', 'auditor'])

  const human = await cli(dir, ['users', 'set-roles', 'alice', 'user'])
  t.equal(human.stdout, 'alice now has roles user\n')
  const refreshed = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: tokens.refresh_token } })
  t.same(claims(refreshed.json().access_token)['roles'], ['user'], 'a refresh also picks the new roles up')
  const bad = await cli(dir, ['users', 'set-roles', 'alice', 'two words'])
  t.equal(bad.code, 2)
})

t.test('users reset-password: the old password fails, the new one works, sessions end', async (t) => {
  const dir = t.testdir()
  const { app } = await buildTestApp(t, {}, { dir })
  await register(app, 'alice')
  const login = async (password: string) => await app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'alice', password } })
  const session = (await login(PASSWORD)).json()
  const fresh = 'a brand new passphrase'

  const reset = await cli(dir, ['users', 'reset-password', 'alice'], { input: `${fresh}\n` })
  t.equal(reset.code, 0, reset.stderr)
  t.equal(reset.stdout, 'password of alice reset; 1 session(s) ended\n')

  t.equal((await login(PASSWORD)).statusCode, 401, 'the old password fails')
  t.equal((await login(fresh)).statusCode, 200, 'the new one works')
  const refresh = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: session.refresh_token } })
  t.equal(refresh.statusCode, 401, 'the session from before the reset is over')

  const asJson = await cli(dir, ['users', 'reset-password', 'alice', '--json'], { input: PASSWORD })
  t.equal(asJson.code, 0)
  t.same(json(asJson), { username: 'alice', sessionsEnded: 1 })
  const empty = await cli(dir, ['users', 'reset-password', 'alice'], { input: '' })
  t.equal(empty.code, 1, 'an empty password is refused')
  t.equal((await login(PASSWORD)).statusCode, 200, 'and changes nothing')
})
