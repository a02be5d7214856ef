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
  const me = async (headers: (i: number) => Record<string, string>) =>
    await openLoop({ url: tessera.url, path: '/auth/me', rate: profile.fixedRate, seconds, headers })

  const storm = async (headers: (i: number) => Record<string, string>) => {
    // The storm starts first and outlasts the measurement, so every measured request meets a saturated hasher.
    const logins = closedLoop({ url: tessera.url, connections: loginConnections(hashConcurrency), seconds: seconds + 1.5, spec: loginSpec(users) })
    await new Promise((resolve) => setTimeout(resolve, 500))
    const result = await me(headers)
    return { result, logins: await logins }
  }

  await me(distinct)
  const rounds = await interleave<LatencyKey, { result: OpenLoopResult, logins?: LoadResult }>([
    ['distinctAlone', async () => ({ result: await me(distinct) })],
    ['distinctStorm', async () => await storm(distinct)],
    ['repeatedAlone', async () => ({ result: await me(repeated) })],
    ['repeatedStorm', async () => await storm(repeated)]
  ], profile.fixedRateRounds)

  const out = {} as Record<LatencyKey, LatencyResult>
  for (const [key, list] of Object.entries(rounds) as Array<[LatencyKey, Array<{ result: OpenLoopResult, logins?: LoadResult }>]>) {
    const { latencies: _drop, ...merged } = mergeOpenLoop(list.map((r) => r.result))
    const logins = list.map((r) => r.logins).filter((r): r is LoadResult => r !== undefined)
    const loginRps = logins.length ? logins.reduce((n, r) => n + r.requests, 0) / logins.reduce((n, r) => n + r.seconds, 0) : 0
    for (const r of logins) {
      if (Object.keys(r.non2xx).length > 0 || r.errors > 0) throw new Error(`login storm: non-2xx ${JSON.stringify(r.non2xx)}, errors ${r.errors}`)
    }
    if (Object.keys(merged.non2xx).length > 0 || merged.errors > 0) {
      throw new Error(`${key}: non-2xx ${JSON.stringify(merged.non2xx)}, errors ${merged.errors}`)
    }
    out[key] = { ...merged, loginRps }
  }
  return out
}
