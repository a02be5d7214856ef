import { createPublicKey } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { expressjwt, type Request as JwtRequest } from 'express-jwt'
import { createVerifier as createFastJwtVerifier } from 'fast-jwt'
import jwksRsa from 'jwks-rsa'
import { generateKey, writeKeyFile } from '../../src/services/keys/key-files.js'
import { VERIFIED_TOKENS_MAX } from '../../src/services/tokens/verified-tokens.js'
import { createVerifier } from '../../src/verify/index.js'
import { interleave } from '../lib/interleave.js'
import { FULL, QUICK, type Profile } from '../lib/profile.js'
import { fmt, ratio, ratioTarget, table, targetsTable, type Target } from '../lib/report.js'
import { mintAccessTokens } from '../lib/tokens.js'

/**
 * Scenario 9 (issue 5): the verification kit (`createVerifier` from src/verify) against fast-jwt with a static key
 * and against express-jwt + jwks-rsa, in this one process, CPU-bound, over one pool of distinct ES256 tokens
 * minted as Tessera issues them. The JWKS is served by a local node:http server for the kit and for jwks-rsa.
 *
 * Caching: the kit remembers VERIFIED_TOKENS_MAX (1,000) verified tokens per key, first in first out; each
 * variant walks the pool of 2,000 tokens in order, continuing across rounds, so a token comes back only after
 * 1,999 others and the cache never hits: every call checks a signature. fast-jwt runs with `cache: false`. jwks-rsa caches the key (by kid),
 * as it would in production; neither express-jwt nor jsonwebtoken caches tokens.
 */

const ISSUER = 'http://tessera.bench'
const AUDIENCE = 'api'
const TTL = 900
const POOL = 2000

type Key = 'kit' | 'fastJwt' | 'expressJwt'

export interface KitVariantResult {
  label: string
  /** Verifications per wall second over all rounds, and per CPU second of this process. */
  ops: number
  cpuOps: number
  roundsOps: number[]
  calls: number
}

export interface KitResult {
  pool: number
  roundSeconds: number
  rounds: number
  kit: KitVariantResult
  fastJwt: KitVariantResult
  expressJwt: KitVariantResult
}

const LABELS: Record<Key, string> = {
  kit: 'kit: createVerifier (src/verify), JWKS over HTTP, await verify(token)',
  fastJwt: 'fast-jwt createVerifier, static PEM key, cache off',
  expressJwt: 'express-jwt + jwks-rsa (cache, rateLimit), as middleware'
}

function cpuMs (): number {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

interface Round { calls: number, wallMs: number, cpuMs: number }

/** Awaits `op` token after token for `seconds` of wall time, checking the clock every 32 calls. */
async function measure (seconds: number, next: () => Promise<unknown>): Promise<Round> {
  const start = performance.now()
  const cpu0 = cpuMs()
  const end = start + seconds * 1000
  let calls = 0
  let now = start
  while (now < end) {
    for (let j = 0; j < 32; j++) await next()
    calls += 32
    now = performance.now()
  }
  return { calls, wallMs: now - start, cpuMs: cpuMs() - cpu0 }
}

export async function runKit (profile: Profile): Promise<KitResult> {
  const cache = VERIFIED_TOKENS_MAX
  if (POOL <= cache) throw new Error(`token pool (${POOL}) must exceed the kit's verified-token cache (${cache})`)

  // A fresh key, written as Tessera's first start writes it, so this scenario depends on nothing else.
  const keysDir = mkdtempSync(join(tmpdir(), 'tessera-kit-'))
  await writeKeyFile(keysDir, await generateKey('ES256', new Date()), { exclusive: true })
  const minted = await mintAccessTokens({ keysDir, alg: 'ES256', issuer: ISSUER, audience: AUDIENCE, ttl: TTL, count: POOL })
  rmSync(keysDir, { recursive: true, force: true })
  const publicKey = createPublicKey(minted.publicPem)
  const jwks = JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: minted.kid, alg: 'ES256', use: 'sig' }] })

  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' }).end(jwks)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`

  const kit = createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUri, algorithms: ['ES256'], maxLifetime: TTL })
  const fastJwt = createFastJwtVerifier({ key: minted.publicPem, algorithms: ['ES256'], allowedIss: ISSUER, allowedAud: AUDIENCE, cache: false }) as
    (token: string) => Record<string, unknown>
  const middleware = expressjwt({
    secret: jwksRsa.expressJwtSecret({ jwksUri, cache: true, rateLimit: true }),
    algorithms: ['ES256'],
    issuer: ISSUER,
    audience: AUDIENCE
  })
  const res = {} as never
  const viaExpressJwt = async (token: string): Promise<Record<string, unknown>> => {
    const req = { headers: { authorization: `Bearer ${token}` } } as unknown as JwtRequest
    await new Promise<void>((resolve, reject) => {
      void middleware(req, res, (error?: unknown) => { if (error) reject(error as Error); else resolve() })
    })
    return req.auth as Record<string, unknown>
  }

  try {
    await kit.ready()
    // The same answer from all three (and the keys loaded) before anything is timed.
    for (const token of minted.tokens.slice(0, 3)) {
      const subs = [(await kit.verify(token)).id, fastJwt(token)['sub'], (await viaExpressJwt(token))['sub']]
      if (subs.some((s) => s !== subs[0] || typeof s !== 'string')) throw new Error(`kit scenario: variants disagree: ${JSON.stringify(subs)}`)
    }

    // One cursor per variant, never reset: each walks the whole pool in order, round after round.
    const cursor: Record<Key, number> = { kit: 0, fastJwt: 0, expressJwt: 0 }
    const token = (key: Key) => minted.tokens[cursor[key]++ % POOL] as string
    const ops: Record<Key, () => Promise<unknown>> = {
      kit: async () => await kit.verify(token('kit')),
      fastJwt: async () => fastJwt(token('fastJwt')),
      expressJwt: async () => await viaExpressJwt(token('expressJwt'))
    }
    const keys = Object.keys(ops) as Key[]
    for (const key of keys) await measure(profile.kitWarmupSeconds, ops[key])
    const rounds = await interleave(keys.map((key) => [key, async () => await measure(profile.kitSeconds, ops[key])] as const), profile.kitRounds)

    const summary = (key: Key): KitVariantResult => {
      const list = rounds[key]
      const calls = list.reduce((n, r) => n + r.calls, 0)
      return {
        label: LABELS[key],
        ops: calls / (list.reduce((n, r) => n + r.wallMs, 0) / 1000),
        cpuOps: calls / (list.reduce((n, r) => n + r.cpuMs, 0) / 1000),
        roundsOps: list.map((r) => Math.round(r.calls / (r.wallMs / 1000))),
        calls
      }
    }
    return { pool: POOL, roundSeconds: profile.kitSeconds, rounds: profile.kitRounds, kit: summary('kit'), fastJwt: summary('fastJwt'), expressJwt: summary('expressJwt') }
  } finally {
    kit.close()
    server.closeAllConnections()
    server.close()
  }
}

export function kitTargets (k: KitResult): Target[] {
  const cpu = (a: KitVariantResult, b: KitVariantResult) =>
    `${fmt(ratio(a.cpuOps, b.cpuOps), 2)} (${fmt(a.cpuOps)} vs ${fmt(b.cpuOps)} ops per CPU second, in process)`
  return [
    { ...ratioTarget('verification kit vs fast-jwt, static key (9)', k.kit.ops, k.fastJwt.ops, 0.9, { unit: 'ops/s' }), crossCheck: cpu(k.kit, k.fastJwt) },
    { ...ratioTarget('verification kit vs express-jwt + jwks-rsa (9)', k.kit.ops, k.expressJwt.ops, 3, { unit: 'ops/s' }), crossCheck: cpu(k.kit, k.expressJwt) }
  ]
}

export function kitTable (k: KitResult): string {
  const rows = (['kit', 'fastJwt', 'expressJwt'] as const).map((key) => {
    const v = k[key]
    return [v.label, fmt(v.ops), fmt(1e6 / v.ops, 1), fmt(ratio(v.ops, k.kit.ops), 2), fmt(v.cpuOps), fmt(v.calls), v.roundsOps.map((n) => fmt(n)).join(', ')]
  })
  return table(['verifier', 'ops/s', 'µs/op', 'x kit', 'ops per CPU second', 'calls', 'ops/s per round'], rows)
}

// `node --import tsx bench/scenarios/kit.ts [--quick]`: this scenario alone (no build, no servers), printed, no results.json.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const profile = process.argv.includes('--quick') ? QUICK : FULL
  const result = await runKit(profile)
  process.stdout.write(`${targetsTable(kitTargets(result))}\n\n${kitTable(result)}\n`)
}
