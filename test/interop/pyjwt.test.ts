import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { ALGORITHMS, liveToken } from './fixtures/live.js'

const run = promisify(execFile)
/** Debian's interpreter, where python3-jwt installs; a pyenv python3 earlier on PATH would not see it. */
const PYTHON = '/usr/bin/python3'
const SCRIPT = fileURLToPath(new URL('./fixtures/verify_pyjwt.py', import.meta.url))

async function pyjwtVersion (): Promise<string | undefined> {
  try {
    const { stdout } = await run(PYTHON, ['-c', 'import jwt, cryptography; print(jwt.__version__)'])
    return stdout.trim()
  } catch {
    return undefined
  }
}

const version = await pyjwtVersion()
if (version === undefined && process.env['CI'] !== undefined) {
  t.fail(`PyJWT is required in CI: apt-get install -y python3-jwt python3-cryptography (${PYTHON})`)
} else if (version === undefined) {
  console.log(`# NOTICE: PyJWT interop skipped: ${PYTHON} cannot import jwt and cryptography (apt-get install -y python3-jwt python3-cryptography)`)
}
const skip = version === undefined ? 'PyJWT (python3-jwt) is not installed' : false

async function pyjwt (jwksUri: string, issuer: string, alg: string, token: string, audience = 'api') {
  const { stdout } = await run(PYTHON, [SCRIPT, jwksUri, issuer, audience, alg, token], { timeout: 30_000 })
  return JSON.parse(stdout) as { ok: boolean, error?: string, claims?: Record<string, unknown>, header?: Record<string, unknown> }
}

for (const alg of ALGORITHMS) {
  t.test(`PyJWT ${version ?? ''} verifies Tessera's ${alg} tokens against the live JWKS`, { skip }, async (t) => {
    const { issuer, jwksUri, token, forged, user } = await liveToken(t, alg)

    const good = await pyjwt(jwksUri, issuer, alg, token)
    t.equal(good.ok, true, good.error ?? 'verified')
    t.equal(good.claims?.['sub'], user.id)
    t.same(good.claims?.['roles'], user.roles)
    t.match(good.header, { alg, typ: 'at+jwt' })

    t.same(await pyjwt(jwksUri, issuer, alg, forged), { ok: false, error: 'InvalidSignatureError' })
    t.same(await pyjwt(jwksUri, issuer, alg, token, 'another-api'), { ok: false, error: 'InvalidAudienceError' })
  })
}
