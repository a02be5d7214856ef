import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { createServer } from 'node:net'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import t from 'tap'
import type { Test } from 'tap'

/**
 * These tests run the service the way an operator does: the compiled `server.js` in its own process, configured
 * only through the environment. The build goes to a private folder (same tsconfig as `npm run build`), so the
 * test runs the current sources and never races another run writing `dist/`.
 */
const root = resolve(import.meta.dirname, '..')
const buildDir = join(t.testdir({}), 'dist')
await promisify(execFile)(process.execPath, [
  join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json'),
  '--outDir', buildDir, '--tsBuildInfoFile', join(buildDir, '.tsbuildinfo')
], { cwd: root })
const serverJs = join(buildDir, 'server.js')

async function freePort (): Promise<number> {
  return await new Promise((resolvePort, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      const port = typeof address === 'object' && address ? address.port : 0
      probe.close(() => resolvePort(port))
    })
  })
}

interface Run {
  child: ChildProcess
  /** Parsed JSON log lines from stdout. */
  logs: Array<Record<string, unknown>>
  stderr: () => string
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

/** Starts `node server.js` in `dir` with exactly `env` (plus PATH), never the test runner's environment. */
function start (t: Test, dir: string, env: Record<string, string>): Run {
  const child = spawn(process.execPath, [serverJs], { cwd: dir, env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const logs: Array<Record<string, unknown>> = []
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  if (child.stdout) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>)
      } catch {
        logs.push({ msg: line })
      }
    })
  }
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolveExit) => {
    child.once('exit', (code, signal) => resolveExit({ code, signal }))
  })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  return { child, logs, stderr: () => stderr, exited }
}

/** Resolves with the start-up log line once the server listens; rejects if the process ends first. */
async function listening (run: Run): Promise<Record<string, unknown>> {
  return await new Promise((resolveLine, reject) => {
    const check = () => {
      const line = run.logs.find((entry) => String(entry['msg']).startsWith('tessera listening'))
      if (line) {
        clearInterval(timer)
        resolveLine(line)
      }
    }
    const timer = setInterval(check, 20)
    void run.exited.then(({ code }) => {
      clearInterval(timer)
      reject(new Error(`server exited with ${code} before listening: ${run.stderr()}`))
    })
  })
}

function baseEnv (dir: string, port: number): Record<string, string> {
  return {
    PORT: String(port),
    HOST: '127.0.0.1',
    KEYS_DIR: join(dir, 'keys'),
    DATABASE_URL: `sqlite:${join(dir, 'data', 'auth.db')}`,
    LOG_LEVEL: 'info',
    HASH_CONCURRENCY: '1'
  }
}

async function post (port: number, path: string, body: unknown) {
  return await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
}

const kidOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as { kid: string }).kid

t.test('NODE_ENV=production with an empty KEYS_DIR refuses to start and says how to create a key', async (t) => {
  const dir = t.testdir({ keys: {} })
  const run = start(t, dir, { ...baseEnv(dir, await freePort()), NODE_ENV: 'production' })
  const { code } = await run.exited
  t.not(code, 0, 'exits non-zero')
  t.match(run.stderr(), /keys generate/, 'the message names the command that creates a key')
  t.match(run.stderr(), join(dir, 'keys'), 'and the folder it looked in')
  t.same(readdirSync(join(dir, 'keys')), [], 'no key was generated behind the operator\'s back')
})

t.test('a bad variable stops the start and is named', async (t) => {
  const dir = t.testdir()
  const run = start(t, dir, { ...baseEnv(dir, await freePort()), ARGON2_MEMORY_KIB: '4096', JWT_ALG: 'HS256' })
  const { code } = await run.exited
  t.equal(code, 1)
  t.match(run.stderr(), /ARGON2_MEMORY_KIB/)
  t.match(run.stderr(), /JWT_ALG/)
})

t.test('data and keys survive a restart; SIGTERM and SIGINT close cleanly', async (t) => {
  const dir = t.testdir()
  const env = baseEnv(dir, await freePort())
  const password = 'restart-proof passphrase'

  const first = start(t, dir, env)
  const startup = await listening(first)
  t.match(startup, { store: 'sqlite', alg: 'ES256' }, 'start-up facts are logged')
  t.ok(first.logs.some((line) => line['level'] === 40 && String(line['msg']).includes('DEVELOPMENT SIGNING KEY')), 'a generated key is announced loudly')
  const port = Number(env['PORT'])
  t.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200)
  const registered = await post(port, '/auth/register', { username: 'survivor', password })
  t.equal(registered.status, 201)
  const { user } = await registered.json() as { user: { id: string } }
  const firstLogin = await post(port, '/auth/login', { username: 'survivor', password })
  const firstToken = (await firstLogin.json() as { access_token: string }).access_token
  const kid = kidOf(firstToken)
  t.equal(startup['kid'], kid)

  first.child.kill('SIGTERM')
  t.same(await first.exited, { code: 0, signal: null }, 'SIGTERM exits 0')

  const second = start(t, dir, env)
  await listening(second)
  t.notOk(second.logs.some((line) => String(line['msg']).includes('DEVELOPMENT SIGNING KEY')), 'no new key on the second start')
  t.equal(readdirSync(join(dir, 'keys')).filter((name) => name.endsWith('.key.json')).length, 1)
  const again = await post(port, '/auth/login', { username: 'SURVIVOR', password })
  t.equal(again.status, 200, 'the account is still there')
  const body = await again.json() as { access_token: string, user: { id: string } }
  t.equal(body.user.id, user.id)
  t.equal(kidOf(body.access_token), kid, 'signed with the same key')
  const me = await fetch(`http://127.0.0.1:${port}/auth/me`, { headers: { authorization: `Bearer ${firstToken}` } })
  t.equal(me.status, 200, 'a token from before the restart still verifies')

  second.child.kill('SIGINT')
  t.same(await second.exited, { code: 0, signal: null }, 'SIGINT exits 0')
})
