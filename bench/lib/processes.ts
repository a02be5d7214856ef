import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs'
import { request } from 'node:http'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

/** A server the bench started in its own process, on loopback. */
export interface Server {
  readonly name: string
  readonly url: string
  readonly port: number
  readonly pid: number
  /** Milliseconds from spawn to the first 200 on the readiness path. */
  readonly readyMs: number
  readonly logFile: string
  /** Resident set size of the process now, from /proc/<pid>/status (MiB). */
  rssMiB (): number
  /** Peak resident set size since the process started (VmHWM, MiB). */
  peakRssMiB (): number
  /** CPU time (user + system, all threads) used so far by the process and its child processes (cluster workers), ms. */
  cpuMs (): number
  /** CPU time of the main thread alone (the event loop), ms. */
  mainThreadCpuMs (): number
  stop (): Promise<void>
}

export interface StartOptions {
  name: string
  /** A built .js file (run as is) or a .ts file (run through tsx). */
  script: string
  env: Record<string, string>
  logFile: string
  readyPath?: string
  timeoutMs?: number
  port?: number
  /** Extra node flags, e.g. ['--cpu-prof'] to see where a server's time goes. */
  nodeArgs?: string[]
}

const children = new Set<ChildProcess>()

// If the bench dies half-way, the servers it started must not outlive it. Only our own children, by pid.
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL')
})

/** Asks the kernel for a free port, then releases it for the server to take. */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      const port = typeof address === 'object' && address ? address.port : 0
      probe.close(() => resolve(port))
    })
  })
}

function procStatusMiB (pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match?.[1] ? Number(match[1]) / 1024 : Number.NaN
  } catch {
    return Number.NaN
  }
}

/** Linux reports CPU times in clock ticks of 1/100 s (USER_HZ), whatever the kernel's own tick. */
const TICKS_PER_MS = 100 / 1000

function ownCpuMs (pid: number, file = `/proc/${pid}/stat`): number {
  try {
    const stat = readFileSync(file, 'utf8')
    // Fields after the command name, which may itself contain spaces: utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_MS
  } catch {
    return 0
  }
}

function childPids (pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number))
  } catch {
    return []
  }
}

/**
 * CPU time is what makes numbers comparable on a shared machine: req/s depends on how much CPU the server got,
 * CPU per request much less. Exited children are not counted, which is fine while a measurement runs.
 */
export function processTreeCpuMs (pid: number): number {
  return ownCpuMs(pid) + childPids(pid).reduce((n, child) => n + ownCpuMs(child), 0)
}

export async function getStatus (url: string): Promise<number> {
  return await new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: 1000 }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', () => resolve(0))
    req.on('timeout', () => req.destroy())
    req.end()
  })
}

function tail (file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

/** Spawns `script` with only the given environment (plus PATH/HOME) and waits for a 200 on its readiness path. */
export async function startServer ({ name, script, env, logFile, readyPath = '/readyz', timeoutMs = 60_000, port, nodeArgs = [] }: StartOptions): Promise<Server> {
  const listenPort = port ?? await freePort()
  const out = openSync(logFile, 'a')
  const execArgv = script.endsWith('.ts') ? ['--import', 'tsx'] : []
  const startedAt = performance.now()
  const child = spawn(process.execPath, [...nodeArgs, ...execArgv, script], {
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env, PORT: String(listenPort), HOST: '127.0.0.1' },
    stdio: ['ignore', out, out]
  })
  closeSync(out)
  children.add(child)
  let exited: string | undefined
  const exit = new Promise<void>((resolve) => child.once('exit', (code, signal) => {
    exited = `exited with ${signal ?? code}`
    children.delete(child)
    resolve()
  }))

  const url = `http://127.0.0.1:${listenPort}`
  let readyMs = Number.NaN
  while (Number.isNaN(readyMs)) {
    if (exited) throw new Error(`${name} ${exited} before it was ready:\n${tail(logFile)}`)
    if (performance.now() - startedAt > timeoutMs) {
      child.kill('SIGKILL')
      throw new Error(`${name} not ready within ${timeoutMs} ms:\n${tail(logFile)}`)
    }
    if (await getStatus(url + readyPath) === 200) readyMs = performance.now() - startedAt
    else await sleep(5)
  }

  const pid = child.pid ?? 0
  return {
    name,
    url,
    port: listenPort,
    pid,
    readyMs,
    logFile,
    rssMiB: () => procStatusMiB(pid, 'VmRSS'),
    peakRssMiB: () => procStatusMiB(pid, 'VmHWM'),
    cpuMs: () => processTreeCpuMs(pid),
    mainThreadCpuMs: () => ownCpuMs(pid, `/proc/${pid}/task/${pid}/stat`),
    async stop () {
      if (exited) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exit
      clearTimeout(timer)
    }
  }
}

/** Samples a process's RSS while `work` runs; returns the largest value seen (MiB). */
export async function maxRssDuring<T> (server: Server, work: () => Promise<T>, everyMs = 200): Promise<{ result: T, maxRssMiB: number }> {
  let max = server.rssMiB()
  const timer = setInterval(() => { max = Math.max(max, server.rssMiB()) }, everyMs)
  try {
    const result = await work()
    max = Math.max(max, server.rssMiB())
    return { result, maxRssMiB: max }
  } finally {
    clearInterval(timer)
  }
}
