import { Agent } from 'node:http'
import { isDeepStrictEqual } from 'node:util'
import { aggregate, interleave, type Aggregate } from '../lib/interleave.js'
import { pool, send } from '../lib/http.js'
import { assertClean, closedLoop, withCpu, type LoadResult } from '../lib/load.js'
import type { Server } from '../lib/processes.js'
import type { Profile } from '../lib/profile.js'
import type { BenchUser } from '../lib/tokens.js'

/** Scenarios 1-4: GET /auth/me on Tessera and on the servers it is measured against, interleaved in one run. */

export interface VerifyServers {
  tessera: Server
  /** The same Tessera with LOG_LEVEL=warn: shows what per-request logging costs. */
  tesseraQuiet: Server
  ceiling: Server
  reference: Server
  expressJwt: Server
  expressSession: Server
}

export type VerifyKey = 'ceiling' | 'tesseraRepeated' | 'tesseraDistinct' | 'reference' | 'expressJwt' | 'expressJwtRepeated' | 'expressSession' | 'expressSessionRepeated' |
  'tesseraQuietRepeated' | 'tesseraQuietDistinct'

export interface Variant {
  key: VerifyKey
  label: string
  credential: string
  server: Server
  headers: (i: number) => Record<string, string>
}

/** Logs each bench user into express-session once (in parallel) and returns the session cookies, in user order. */
export async function createSessions (server: Server, users: BenchUser[]): Promise<string[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 })
  try {
    return await pool(users.length, 16, async (i) => {
      const reply = await send(`${server.url}/login`, {
        method: 'POST', agent, headers: { 'content-type': 'application/json' }, body: JSON.stringify(users[i])
      })
      const cookie = [reply.headers['set-cookie'] ?? []].flat()[0]?.split(';')[0]
      if (reply.status !== 204 || !cookie) throw new Error(`express-session login ${i}: ${reply.status}`)
      return cookie
    })
  } finally {
    agent.destroy()
  }
}

export function variants (servers: VerifyServers, tokens: string[], cookies: string[]): Variant[] {
  const bearer = (i: number) => ({ authorization: `Bearer ${tokens[i % tokens.length] ?? ''}` })
  const repeated = () => ({ authorization: `Bearer ${tokens[0] ?? ''}` })
  const cookie = (i: number) => ({ cookie: cookies[i % cookies.length] ?? '' })
  const distinct = `${tokens.length.toLocaleString('en')} distinct tokens`
  return [
    { key: 'ceiling', label: 'Fastify, no auth (ceiling)', credential: '(ignored)', server: servers.ceiling, headers: bearer },
    { key: 'tesseraRepeated', label: 'Tessera', credential: 'one repeated token', server: servers.tessera, headers: repeated },
    { key: 'tesseraDistinct', label: 'Tessera', credential: distinct, server: servers.tessera, headers: bearer },
    { key: 'reference', label: 'Fastify + @fastify/jwt (reference)', credential: distinct, server: servers.reference, headers: bearer },
    { key: 'expressJwt', label: 'Express + express-jwt', credential: distinct, server: servers.expressJwt, headers: bearer },
    // jsonwebtoken has no cache, but measured rather than assumed: the repeated-token comparison with Tessera is fair only then.
    { key: 'expressJwtRepeated', label: 'Express + express-jwt', credential: 'one repeated token', server: servers.expressJwt, headers: repeated },
    { key: 'expressSession', label: 'Express + express-session (MemoryStore)', credential: `${cookies.length.toLocaleString('en')} distinct sessions`, server: servers.expressSession, headers: cookie },
    // One client repeating its own session cookie: the counterpart of one client repeating its token.
    { key: 'expressSessionRepeated', label: 'Express + express-session (MemoryStore)', credential: 'one repeated session', server: servers.expressSession, headers: () => ({ cookie: cookies[0] ?? '' }) },
    { key: 'tesseraQuietRepeated', label: 'Tessera, LOG_LEVEL=warn', credential: 'one repeated token', server: servers.tesseraQuiet, headers: repeated },
    { key: 'tesseraQuietDistinct', label: 'Tessera, LOG_LEVEL=warn', credential: distinct, server: servers.tesseraQuiet, headers: bearer }
  ]
}

/** Every server must answer the same request with the same JSON before its speed means anything. */
export async function checkSameAnswer (list: Variant[], expected: unknown) {
  for (const variant of list) {
    const reply = await send(`${variant.server.url}/auth/me`, { headers: variant.headers(0) })
    let body: unknown
    try {
      body = JSON.parse(reply.body)
    } catch {
      body = reply.body
    }
    if (reply.status !== 200 || !isDeepStrictEqual(body, expected)) {
      throw new Error(`${variant.key}: expected 200 ${JSON.stringify(expected)}, got ${reply.status} ${reply.body}`)
    }
  }
}

export async function measureVariant (variant: Variant, connections: number, seconds: number): Promise<LoadResult> {
  let i = 0
  const result = await withCpu(variant.server, async () => await closedLoop({
    url: variant.server.url,
    connections,
    seconds,
    spec: { method: 'GET', path: '/auth/me', next: () => ({ headers: variant.headers(i++) }) }
  }))
  assertClean(variant.key, result)
  return result
}

export async function runVerify (list: Variant[], profile: Profile, onRound?: () => void): Promise<Record<VerifyKey, Aggregate>> {
  for (const variant of list) await measureVariant(variant, profile.connections, profile.warmupSeconds)
  const rounds = await interleave(list.map((v) => [v.key, async () => {
    const result = await measureVariant(v, profile.connections, profile.roundSeconds)
    onRound?.()
    return result
  }] as const), profile.rounds)
  return Object.fromEntries(Object.entries(rounds).map(([key, results]) => [key, aggregate(results as LoadResult[])])) as Record<VerifyKey, Aggregate>
}
