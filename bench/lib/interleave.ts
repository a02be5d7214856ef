import type { LoadResult } from './load.js'

/**
 * Runs every variant once per round, rounds back to back (A, B, C, A, B, C, ...), and rotates the order each
 * round so no variant always runs first or last. Drift on a shared machine (another job starting, a thermal
 * change) then hits every variant alike, and their ratio stays meaningful.
 */
export async function interleave<K extends string, T> (
  variants: ReadonlyArray<readonly [K, () => Promise<T>]>,
  rounds: number
): Promise<Record<K, T[]>> {
  const results = Object.fromEntries(variants.map(([key]) => [key, [] as T[]])) as Record<K, T[]>
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < variants.length; i++) {
      const [key, run] = variants[(i + round) % variants.length] as readonly [K, () => Promise<T>]
      results[key].push(await run())
    }
  }
  return results
}

export interface Aggregate {
  requests: number
  seconds: number
  /** Total requests over total time of every round. */
  rps: number
  /** Median over rounds of each round's p50 and p99 (ms). */
  p50: number
  p99: number
  roundsRps: number[]
  /** Server CPU per request (µs): throughput per core if the server had a core to itself is 1e6 / this. */
  cpuUsPerRequest: number
  /** Share of one core the server and the client (this process) used while measuring. */
  serverCores: number
  clientCores: number
}

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
}

export function aggregate (rounds: LoadResult[]): Aggregate {
  const requests = rounds.reduce((n, r) => n + r.requests, 0)
  const seconds = rounds.reduce((n, r) => n + r.seconds, 0)
  return {
    requests,
    seconds,
    rps: requests / seconds,
    p50: median(rounds.map((r) => r.p50)),
    p99: median(rounds.map((r) => r.p99)),
    roundsRps: rounds.map((r) => Math.round(r.rps)),
    cpuUsPerRequest: (rounds.reduce((n, r) => n + (r.serverCpuMs ?? Number.NaN), 0) * 1000) / requests,
    serverCores: rounds.reduce((n, r) => n + (r.serverCpuMs ?? Number.NaN), 0) / (seconds * 1000),
    clientCores: rounds.reduce((n, r) => n + (r.clientCpuMs ?? Number.NaN), 0) / (seconds * 1000)
  }
}

export { median }
