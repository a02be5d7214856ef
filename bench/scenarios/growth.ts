import { aggregate, interleave, median } from '../lib/interleave.js'
import { assertClean, closedLoop, withCpu, type LoadResult } from '../lib/load.js'
import type { Server } from '../lib/processes.js'
import type { Profile } from '../lib/profile.js'
import { loginSpec } from './login.js'

/**
 * Scenario 7: login latency with a small and a large user table. One connection, one login at a time, so the
 * latency is the work of a login (lookup + argon2 + session insert), not time spent in a queue. Usernames are
 * drawn at random over the whole table, so the large one cannot stay hot in the page cache by luck.
 */

async function logins (server: Server, users: number, seconds: number): Promise<LoadResult> {
  const result = await withCpu(server, async () => await closedLoop({ url: server.url, connections: 1, seconds, spec: loginSpec(users) }))
  assertClean(`login with ${users} users`, result)
  return result
}

function summary (list: LoadResult[]) {
  const total = aggregate(list)
  return {
    meanMs: (total.seconds * 1000) / total.requests,
    p50: median(list.map((r) => r.p50)),
    p99: median(list.map((r) => r.p99)),
    logins: total.requests,
    cpuMsPerLogin: total.cpuUsPerRequest / 1000
  }
}

export async function runGrowth ({ small, large, users, profile }: {
  small: Server
  large: Server
  users: readonly [number, number]
  profile: Profile
}) {
  const warmup = Math.max(0.5, profile.warmupSeconds)
  await logins(small, users[0], warmup)
  await logins(large, users[1], warmup)
  const rounds = await interleave<'small' | 'large', LoadResult>([
    ['small', async () => await logins(small, users[0], profile.growthRoundSeconds)],
    ['large', async () => await logins(large, users[1], profile.growthRoundSeconds)]
  ], profile.rounds)
  return { small: summary(rounds.small), large: summary(rounds.large) }
}
