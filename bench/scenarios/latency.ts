import { interleave } from '../lib/interleave.js'
import { closedLoop, type LoadResult } from '../lib/load.js'
import { mergeOpenLoop, openLoop, type OpenLoopResult } from '../lib/open-loop.js'
import type { Server } from '../lib/processes.js'
import type { Profile } from '../lib/profile.js'
import { loginConnections, loginSpec } from './login.js'

/**
 * Scenario 6: /auth/me latency at a fixed offered rate, alone and while a login storm keeps every hashing slot
 * busy. Argon2 runs on the libuv pool behind a bounded limiter, so the event loop should not notice the storm.
 */

export type LatencyKey = 'distinctAlone' | 'distinctStorm' | 'repeatedAlone' | 'repeatedStorm'

export interface LatencyResult extends Omit<OpenLoopResult, 'latencies'> {
  /** Logins per second completed during the storm rounds (0 when alone). */
  loginRps: number
  /** CPU of this process (the load generator) and of the server while measuring, in cores. */
  clientCores: number
  serverCores: number
}

interface Round {
  result: OpenLoopResult
  logins?: LoadResult
  clientMs: number
  serverMs: number
  wallMs: number
}

export async function runLatency ({ tessera, tokens, users, hashConcurrency, profile }: {
  tessera: Server
  tokens: string[]
  users: number
  hashConcurrency: number
  profile: Profile
}): Promise<Record<LatencyKey, LatencyResult>> {
  const seconds = profile.fixedRateSeconds
  const distinct = (i: number) => ({ authorization: `Bearer ${tokens[i % tokens.length] ?? ''}` })
  const repeated = () => ({ authorization: `Bearer ${tokens[0] ?? ''}` })
  const me = async (headers: (i: number) => Record<string, string>) => {
    const client0 = process.cpuUsage()
    const server0 = tessera.cpuMs()
    const start = performance.now()
    const result = await openLoop({ url: tessera.url, path: '/auth/me', rate: profile.fixedRate, seconds, headers })
    const client = process.cpuUsage(client0)
    return { result, clientMs: (client.user + client.system) / 1000, serverMs: tessera.cpuMs() - server0, wallMs: performance.now() - start }
  }

  const storm = async (headers: (i: number) => Record<string, string>): Promise<Round> => {
    // The storm starts first and outlasts the measurement, so every measured request meets a saturated hasher.
    const logins = closedLoop({ url: tessera.url, connections: loginConnections(hashConcurrency), seconds: seconds + 1.5, spec: loginSpec(users) })
    await new Promise((resolve) => setTimeout(resolve, 500))
    const round = await me(headers)
    return { ...round, logins: await logins }
  }

  await me(distinct)
  const rounds = await interleave<LatencyKey, Round>([
    ['distinctAlone', async () => await me(distinct)],
    ['distinctStorm', async () => await storm(distinct)],
    ['repeatedAlone', async () => await me(repeated)],
    ['repeatedStorm', async () => await storm(repeated)]
  ], profile.fixedRateRounds)

  const out = {} as Record<LatencyKey, LatencyResult>
  for (const [key, list] of Object.entries(rounds) as Array<[LatencyKey, Round[]]>) {
    const { latencies: _drop, ...merged } = mergeOpenLoop(list.map((r) => r.result))
    const logins = list.map((r) => r.logins).filter((r): r is LoadResult => r !== undefined)
    const loginRps = logins.length ? logins.reduce((n, r) => n + r.requests, 0) / logins.reduce((n, r) => n + r.seconds, 0) : 0
    for (const r of logins) {
      if (Object.keys(r.non2xx).length > 0 || r.errors > 0) throw new Error(`login storm: non-2xx ${JSON.stringify(r.non2xx)}, errors ${r.errors}`)
    }
    if (Object.keys(merged.non2xx).length > 0 || merged.errors > 0) {
      throw new Error(`${key}: non-2xx ${JSON.stringify(merged.non2xx)}, errors ${merged.errors}`)
    }
    const wallMs = list.reduce((n, r) => n + r.wallMs, 0)
    out[key] = {
      ...merged,
      loginRps,
      clientCores: list.reduce((n, r) => n + r.clientMs, 0) / wallMs,
      serverCores: list.reduce((n, r) => n + r.serverMs, 0) / wallMs
    }
  }
  return out
}
