import { fork, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { interleave } from '../lib/interleave.js'
import { assertClean, closedLoop, withCpu, type LoadResult, type RequestSpec } from '../lib/load.js'
import type { Server } from '../lib/processes.js'
import type { Profile } from '../lib/profile.js'
import { seededUsername } from '../lib/seed.js'
import { PASSWORD, ROOT } from '../lib/tessera.js'

/** Scenario 5: logins per second against the raw argon2id rate on the same machine; refreshes per second. */

export function loginSpec (users: number): RequestSpec {
  return {
    method: 'POST',
    path: '/auth/login',
    next: () => ({
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: seededUsername(Math.floor(Math.random() * users)), password: PASSWORD })
    })
  }
}

/** Enough logins in flight to keep every hashing slot busy, well under the queue limit (64 per slot). */
export function loginConnections (hashConcurrency: number): number {
  return hashConcurrency * 4
}

export interface RawRound {
  verifications: number
  seconds: number
  cpuMs: number
}

export interface RawArgon2 {
  round (seconds: number): Promise<RawRound>
  stop (): void
}

export async function startRawArgon2 ({ hash, concurrency }: { hash: string, concurrency: number }): Promise<RawArgon2> {
  const child: ChildProcess = fork(join(ROOT, 'bench', 'workers', 'argon2-rate.ts'), [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' })
  const next = async <T>(message: unknown): Promise<T> => await new Promise((resolve, reject) => {
    child.once('message', (reply: T & { error?: string }) => reply.error ? reject(new Error(`argon2 worker: ${reply.error}`)) : resolve(reply))
    child.send(message as object)
  })
  await next({ hash, password: PASSWORD, concurrency })
  return {
    round: async (seconds) => await next({ seconds }),
    stop: () => { child.kill('SIGTERM') }
  }
}

export interface LoginResult {
  loginRps: number
  rawRps: number
  logins: number
  verifications: number
  /** Median login latency (ms) at that load: mostly time queued behind the hashing slots. */
  loginP50: number
  roundsLoginRps: number[]
  roundsRawRps: number[]
  /** CPU per login in the server (event loop + hashing threads) and per raw verification, ms. */
  loginCpuMs: number
  rawCpuMs: number
  /** Of loginCpuMs, the part spent on the event loop (everything but the hash), ms. */
  loginMainThreadCpuMs: number
}

export async function runLogin ({ tessera, users, hashConcurrency, raw, profile }: {
  tessera: Server
  users: number
  hashConcurrency: number
  raw: RawArgon2
  profile: Profile
}): Promise<LoginResult> {
  const connections = loginConnections(hashConcurrency)
  const login = async (seconds: number) => {
    const result = await withCpu(tessera, async () => await closedLoop({ url: tessera.url, connections, seconds, spec: loginSpec(users) }))
    assertClean('login', result)
    return result
  }
  await login(Math.max(1, profile.warmupSeconds))
  await raw.round(Math.max(0.5, profile.warmupSeconds))
  const rounds = await interleave<'login' | 'raw', LoadResult | RawRound>([
    ['login', async () => await login(profile.loginRoundSeconds)],
    ['raw', async () => await raw.round(profile.loginRoundSeconds)]
  ], profile.rounds)
  const logins = rounds.login as LoadResult[]
  const raws = rounds.raw as RawRound[]
  const sum = <T>(list: T[], f: (x: T) => number) => list.reduce((n, x) => n + f(x), 0)
  const p50s = logins.map((r) => r.p50).sort((a, b) => a - b)
  return {
    loginRps: sum(logins, (r) => r.requests) / sum(logins, (r) => r.seconds),
    rawRps: sum(raws, (r) => r.verifications) / sum(raws, (r) => r.seconds),
    logins: sum(logins, (r) => r.requests),
    verifications: sum(raws, (r) => r.verifications),
    loginP50: p50s[Math.floor(p50s.length / 2)] ?? Number.NaN,
    roundsLoginRps: logins.map((r) => Math.round(r.rps * 10) / 10),
    roundsRawRps: raws.map((r) => Math.round((r.verifications / r.seconds) * 10) / 10),
    loginCpuMs: sum(logins, (r) => r.serverCpuMs ?? Number.NaN) / sum(logins, (r) => r.requests),
    rawCpuMs: sum(raws, (r) => r.cpuMs) / sum(raws, (r) => r.verifications),
    loginMainThreadCpuMs: sum(logins, (r) => r.serverMainCpuMs ?? Number.NaN) / sum(logins, (r) => r.requests)
  }
}

/**
 * Refresh throughput. Every refresh spends its token and returns a successor, so the client keeps a shared pool:
 * each request takes a token out, each 200 puts the new one back. No token is ever sent twice (that would be reuse
 * and revoke the family).
 */
export async function runRefresh ({ tessera, tokens, profile }: { tessera: Server, tokens: string[], profile: Profile }) {
  const available = [...tokens]
  const spec: RequestSpec = {
    method: 'POST',
    path: '/auth/refresh',
    next: () => ({
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: available.pop() ?? 'pool-exhausted' })
    }),
    onResponse: (status, body) => {
      if (status === 200) available.unshift((JSON.parse(body) as { refresh_token: string }).refresh_token)
    }
  }
  const run = async (seconds: number) => {
    const result = await withCpu(tessera, async () => await closedLoop({ url: tessera.url, connections: profile.connections, seconds, spec }))
    assertClean('refresh', result)
    return result
  }
  await run(profile.warmupSeconds)
  const results: LoadResult[] = []
  for (let i = 0; i < profile.rounds; i++) results.push(await run(profile.roundSeconds))
  const requests = results.reduce((n, r) => n + r.requests, 0)
  const seconds = results.reduce((n, r) => n + r.seconds, 0)
  const cpuMs = results.reduce((n, r) => n + (r.serverCpuMs ?? Number.NaN), 0)
  return {
    rps: requests / seconds,
    requests,
    p50: results[0]?.p50 ?? Number.NaN,
    p99: Math.max(...results.map((r) => r.p99)),
    cpuUsPerRequest: (cpuMs * 1000) / requests,
    serverCores: cpuMs / (seconds * 1000)
  }
}
