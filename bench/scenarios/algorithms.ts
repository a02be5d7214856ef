import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { createSigner, createVerifier } from 'fast-jwt'
import type { Algorithm } from '../../src/config.js'
import { interleave } from '../lib/interleave.js'
import type { Profile } from '../lib/profile.js'

/**
 * Scenario 8: what one signature costs, per algorithm, in this process with fast-jwt (the library Tessera signs
 * and verifies with), keys of the sizes Tessera generates (P-256, Ed25519, RSA 2048). Verification runs over
 * 1,000 distinct tokens with fast-jwt's cache off, so every call checks a signature.
 */

const ALGS: Algorithm[] = ['ES256', 'EdDSA', 'RS256']

function keyPair (alg: Algorithm) {
  const pair = alg === 'ES256'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : alg === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('rsa', { modulusLength: 2048 })
  return {
    privatePem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString()
  }
}

function claims (i: number) {
  const iat = Math.floor(Date.now() / 1000)
  return {
    iss: 'http://tessera.bench', aud: 'api', sub: randomUUID(), iat, exp: iat + 900, jti: randomUUID(), sid: randomUUID(),
    username: `bench${i}`, roles: ['user']
  }
}

function cpuMs (): number {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

/**
 * Calls `op` for `seconds` of wall time, checking the clock every 32 calls. Returns calls per second of CPU time
 * (what one core would do if it were ours alone; a shared machine hands out far less wall time) and per wall second.
 */
function opsPerSecond (seconds: number, op: (i: number) => unknown): { cpu: number, wall: number } {
  const start = performance.now()
  const cpu0 = cpuMs()
  const end = start + seconds * 1000
  let n = 0
  let now = start
  while (now < end) {
    for (let j = 0; j < 32; j++) op(n++)
    now = performance.now()
  }
  return { cpu: n / ((cpuMs() - cpu0) / 1000), wall: n / ((now - start) / 1000) }
}

export interface AlgorithmResult {
  alg: Algorithm
  /** Operations per CPU second. */
  signOps: number
  verifyOps: number
  /** Operations per wall second (lower when the machine is shared). */
  signWallOps: number
  verifyWallOps: number
  tokenBytes: number
}

export async function runAlgorithms (profile: Profile): Promise<AlgorithmResult[]> {
  const setups = ALGS.map((alg) => {
    const { privatePem, publicPem } = keyPair(alg)
    const sign = createSigner({ key: privatePem, algorithm: alg, kid: 'bench', header: { alg, typ: 'at+jwt' } }) as (payload: object) => string
    const verify = createVerifier({ key: publicPem, algorithms: [alg], cache: false }) as (token: string) => unknown
    const tokens = Array.from({ length: 1000 }, (_, i) => sign(claims(i)))
    const payloads = Array.from({ length: 1000 }, (_, i) => claims(i))
    for (const token of tokens.slice(0, 50)) verify(token)
    return { alg, sign, verify, tokens, payloads }
  })
  const rounds = await interleave(setups.map((s) => [s.alg, async () => ({
    sign: opsPerSecond(profile.algSeconds, (i) => s.sign(s.payloads[i % 1000] ?? {})),
    verify: opsPerSecond(profile.algSeconds, (i) => s.verify(s.tokens[i % 1000] ?? ''))
  })] as const), profile.algRounds)
  return setups.map((s) => {
    const list = rounds[s.alg]
    type Round = { sign: { cpu: number, wall: number }, verify: { cpu: number, wall: number } }
    const mean = (f: (r: Round) => number) => list.reduce((n, r) => n + f(r), 0) / list.length
    return {
      alg: s.alg,
      signOps: mean((r) => r.sign.cpu),
      verifyOps: mean((r) => r.verify.cpu),
      signWallOps: mean((r) => r.sign.wall),
      verifyWallOps: mean((r) => r.verify.wall),
      tokenBytes: (s.tokens[0] ?? '').length
    }
  })
}
