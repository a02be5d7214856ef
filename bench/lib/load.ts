import autocannon from 'autocannon'

/** What one closed-loop run measured. Latencies in milliseconds. */
export interface LoadResult {
  requests: number
  seconds: number
  rps: number
  p50: number
  p99: number
  /** Responses that were not 2xx, by status. Any of these makes the run invalid. */
  non2xx: Record<string, number>
  errors: number
  /** CPU used meanwhile by the server (all its threads and workers) and by this client process, ms. */
  serverCpuMs?: number
  /** Of which the server's main thread (its event loop), ms. */
  serverMainCpuMs?: number
  clientCpuMs?: number
}

export interface RequestSpec {
  method: 'GET' | 'POST'
  path: string
  /** Called for every request: headers (and body) of the next request. Keeps the client's work the same for every server. */
  next: () => { headers?: Record<string, string>, body?: string }
  /** Sees every response body (e.g. to put a rotated refresh token back in the pool). */
  onResponse?: (status: number, body: string) => void
}

/**
 * A closed loop: `connections` keep-alive connections, one request in flight each (no pipelining), for a
 * fixed time. Throughput is what the server sustains; latency here includes queueing behind the others.
 */
export async function closedLoop ({ url, connections, seconds, spec }: {
  url: string
  connections: number
  seconds: number
  spec: RequestSpec
}): Promise<LoadResult> {
  const request: autocannon.Request = {
    method: spec.method,
    path: spec.path,
    setupRequest (req) {
      const { headers, body } = spec.next()
      return { ...req, headers: { ...headers }, ...(body === undefined ? {} : { body }) }
    },
    ...(spec.onResponse ? { onResponse: (status: number, body: string) => spec.onResponse?.(status, body) } : {})
  }
  const result = await autocannon({
    url,
    connections,
    pipelining: 1,
    duration: seconds,
    requests: [request],
    // A slow login is not a failure: argon2 under a queue can take a while.
    timeout: 30
  })
  const non2xx: Record<string, number> = {}
  for (const [status, { count = 0 }] of Object.entries(result.statusCodeStats ?? {})) {
    if (!status.startsWith('2')) non2xx[status] = count
  }
  return {
    requests: result.requests.total,
    seconds: result.duration,
    rps: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx,
    errors: result.errors + result.timeouts
  }
}

/** Runs `load` while measuring the CPU time the server and this process (the client) spend on it. */
export async function withCpu (server: { cpuMs (): number, mainThreadCpuMs (): number }, load: () => Promise<LoadResult>): Promise<LoadResult> {
  const server0 = server.cpuMs()
  const main0 = server.mainThreadCpuMs()
  const client0 = process.cpuUsage()
  const result = await load()
  const client = process.cpuUsage(client0)
  return {
    ...result,
    serverCpuMs: server.cpuMs() - server0,
    serverMainCpuMs: server.mainThreadCpuMs() - main0,
    clientCpuMs: (client.user + client.system) / 1000
  }
}

/** Fails loudly when a run is not what it claims to measure (401s from a bad token would look like a fast server). */
export function assertClean (label: string, result: Pick<LoadResult, 'non2xx' | 'errors' | 'requests'>) {
  const bad = Object.entries(result.non2xx)
  if (bad.length > 0 || result.errors > 0 || result.requests === 0) {
    throw new Error(`${label}: invalid run: ${result.requests} requests, non-2xx ${JSON.stringify(result.non2xx)}, errors ${result.errors}`)
  }
}
