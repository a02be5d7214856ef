import { Agent, request } from 'node:http'

export interface OpenLoopResult {
  offeredRps: number
  achievedRps: number
  sent: number
  completed: number
  p50: number
  p90: number
  p99: number
  max: number
  non2xx: Record<string, number>
  /** Socket errors (refused, reset): the server or the client broke, the run is invalid. */
  errors: number
  /**
   * Requests still unanswered 10 s after the last one was due: the server could not keep up with the offered
   * rate. They count in the percentiles with the time they had waited by then (a lower bound).
   */
  unfinished: number
  /** Latencies in ms, kept so that rounds can be merged before taking percentiles. */
  latencies: Float64Array
  /** p99 of how late the generator issued requests (ms): large values mean the client itself was starved of CPU. */
  issueLagP99: number
}

export function percentile (sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN
}

/**
 * A fixed offered rate, open loop (the wrk2 model): request i is due at start + i/rate and is issued on the next
 * 1 ms timer tick whether or not earlier ones have answered, so a stalled server cannot slow the client down and
 * hide its stall (coordinated omission). Latency counts from when the request was issued: a request that waits for
 * a free socket in the agent counts that wait; the generator's own timer granularity (up to ~1 ms) does not, and
 * is reported separately as `issueLagP99`.
 *
 * Not autocannon's `overallRate`: that gives each connection a per-second quota which it spends back-to-back at
 * the start of every second, so it measures bursts at full concurrency, not a steady 5,000 requests per second.
 */
export async function openLoop ({ url, path, rate, seconds, headers, maxSockets = 256 }: {
  url: string
  path: string
  rate: number
  seconds: number
  headers: (i: number) => Record<string, string>
  maxSockets?: number
}): Promise<OpenLoopResult> {
  const { hostname, port } = new URL(url)
  const agent = new Agent({ keepAlive: true, maxSockets })
  const total = Math.max(1, Math.round(rate * seconds))
  const latencies = new Float64Array(total)
  const lags = new Float64Array(total)
  const non2xx: Record<string, number> = {}
  let issued = 0
  let completed = 0
  let errors = 0
  let finished = 0
  let closed = false
  let start = 0
  const dueOf = (i: number) => start + (i * 1000) / rate
  /** Requests sent and not yet answered: index -> time issued. */
  const pending = new Map<number, number>()

  return await new Promise((resolve) => {
    start = performance.now()
    let lastDone = start

    const done = (i: number) => {
      if (closed) return
      pending.delete(i)
      finished++
      if (finished === total) {
        lastDone = performance.now()
        finish()
      }
    }
    const send = (i: number, due: number) => {
      const issuedAt = performance.now()
      lags[i] = issuedAt - due
      pending.set(i, issuedAt)
      const req = request({ agent, hostname, port, path, method: 'GET', headers: headers(i) }, (res) => {
        res.resume()
        res.on('end', () => {
          if (closed) return
          const status = res.statusCode ?? 0
          if (status >= 200 && status < 300) latencies[completed++] = performance.now() - issuedAt
          else non2xx[status] = (non2xx[status] ?? 0) + 1
          done(i)
        })
      })
      req.on('error', () => {
        if (closed) return
        errors++
        done(i)
      })
      req.end()
    }
    const tick = () => {
      const now = performance.now()
      const due = Math.min(total, Math.floor(((now - start) / 1000) * rate))
      while (issued < due) {
        const i = issued++
        send(i, dueOf(i))
      }
      if (issued >= total) clearInterval(timer)
    }
    const timer = setInterval(tick, 1)
    // Whatever has not answered 10 s after the last request was due is not waited for (see `unfinished`).
    const guard = setTimeout(() => {
      lastDone = performance.now()
      finish()
    }, seconds * 1000 + 10_000)

    function finish () {
      const now = performance.now()
      const unanswered = [...pending.values()].map((issuedAt) => now - issuedAt)
      closed = true
      clearInterval(timer)
      clearTimeout(guard)
      agent.destroy()
      const answered = completed
      const sorted = new Float64Array(answered + unanswered.length)
      sorted.set(latencies.subarray(0, answered))
      sorted.set(unanswered, answered)
      sorted.sort()
      resolve({
        offeredRps: rate,
        achievedRps: answered / ((lastDone - start) / 1000),
        sent: issued,
        completed: answered,
        p50: percentile(sorted, 50),
        p90: percentile(sorted, 90),
        p99: percentile(sorted, 99),
        max: sorted.length ? (sorted[sorted.length - 1] ?? Number.NaN) : Number.NaN,
        non2xx,
        errors,
        unfinished: unanswered.length + (total - issued),
        latencies: sorted,
        issueLagP99: percentile(lags.slice(0, issued).sort(), 99)
      })
    }
  })
}

/** Merges rounds: percentiles over every latency of every round, rates summed over time. */
export function mergeOpenLoop (rounds: OpenLoopResult[]): OpenLoopResult {
  const all = new Float64Array(rounds.reduce((n, r) => n + r.latencies.length, 0))
  let offset = 0
  for (const r of rounds) {
    all.set(r.latencies, offset)
    offset += r.latencies.length
  }
  all.sort()
  const non2xx: Record<string, number> = {}
  for (const r of rounds) for (const [k, v] of Object.entries(r.non2xx)) non2xx[k] = (non2xx[k] ?? 0) + v
  const sum = (f: (r: OpenLoopResult) => number) => rounds.reduce((n, r) => n + f(r), 0)
  return {
    offeredRps: rounds[0]?.offeredRps ?? 0,
    achievedRps: sum((r) => r.achievedRps) / Math.max(1, rounds.length),
    sent: sum((r) => r.sent),
    completed: sum((r) => r.completed),
    p50: percentile(all, 50),
    p90: percentile(all, 90),
    p99: percentile(all, 99),
    max: all.length ? (all[all.length - 1] ?? Number.NaN) : Number.NaN,
    non2xx,
    errors: sum((r) => r.errors),
    unfinished: sum((r) => r.unfinished),
    latencies: all,
    issueLagP99: Math.max(...rounds.map((r) => r.issueLagP99))
  }
}
