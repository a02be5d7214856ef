import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url))

/** Runs the admin CLI as an operator would, with the password piped on stdin. */
async function cli (dir: string, args: string[], stdin: string, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    env: { ...process.env, KEYS_DIR: join(dir, 'keys'), DATABASE_URL: `sqlite:${join(dir, 'auth.db')}`, LOG_LEVEL: 'silent', ...env },
    stdio: ['pipe', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => { stdout += String(chunk) })
  child.stderr.on('data', (chunk) => { stderr += String(chunk) })
  child.stdin.end(stdin)
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  return { code, stdout, stderr }
}

t.test('users add and reset-password apply the password policy of the API', async (t) => {
  const dir = t.testdir()
  const common = await cli(dir, ['users', 'add', 'admin'], 'password123\n')
  t.equal(common.code, 1, 'refused: exit code 1')
  t.match(common.stderr, /PASSWORD_TOO_COMMON/)

  const named = await cli(dir, ['users', 'add', 'admin'], 'the admin account\n')
  t.equal(named.code, 1)
  t.match(named.stderr, /PASSWORD_CONTAINS_USERNAME/)

  const short = await cli(dir, ['users', 'add', 'admin'], 'only-eleven\n', { PASSWORD_MIN_LENGTH: '12' })
  t.equal(short.code, 1)
  t.match(short.stderr, /PASSWORD_TOO_SHORT: The password must have at least 12 characters/)

  const added = await cli(dir, ['users', 'add', 'admin', '--json'], 'a long and unusual passphrase\n')
  t.equal(added.code, 0, added.stderr)
  t.equal(JSON.parse(added.stdout).user.username, 'admin')

  const reset = await cli(dir, ['users', 'reset-password', 'admin'], 'letmein123\n')
  t.equal(reset.code, 1)
  t.match(reset.stderr, /PASSWORD_TOO_COMMON/)
  const resetOk = await cli(dir, ['users', 'reset-password', 'admin'], 'another unusual passphrase\n')
  t.equal(resetOk.code, 0, resetOk.stderr)
})
