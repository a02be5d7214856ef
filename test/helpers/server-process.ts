import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { mkdir, readdir, rmdir, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import type { Test } from 'tap'

const ROOT = resolve(import.meta.dirname, '..', '..')
const SERVER = join(ROOT, 'dist', 'server.js')

async function newestSource (dir: string): Promise<number> {
  let newest = 0
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? await newestSource(path) : (await stat(path)).mtimeMs)
  }
  return newest
}

async function builtIsCurrent (): Promise<boolean> {
  try {
    return (await stat(SERVER)).mtimeMs >= await newestSource(join(ROOT, 'src'))
  } catch {
    return false
  }
}

/**
 * `npm run build` unless dist/ is newer than every source file. Test files run in parallel, so the build
 * takes a lock (an atomic mkdir) and whoever waited re-checks instead of building again.
 */
export async function ensureBuilt (): Promise<void> {
  if (await builtIsCurrent()) return
  const lock = join(tmpdir(), `tessera-build-${Buffer.from(ROOT).toString('hex').slice(-40)}.lock`)
  for (let i = 0; ; i++) {
    try {
      await mkdir(lock)
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || i > 1200) throw error
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  try {
    if (!(await builtIsCurrent())) {
      await promisify(execFile)(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT })
    }
  } finally {
    await rmdir(lock)
  }
}

export interface ServerProcess {
  readonly url: string
  readonly child: ChildProcess
  /** Every JSON log line the process wrote to stdout, parsed. */
  readonly logs: Array<Record<string, unknown>>
  readonly exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

/**
 * Starts `node dist/server.js` with exactly `env` (plus PATH), on a free port chosen by the OS, and resolves
 * once it logs that it listens. The process is killed when `t` ends, if it is still running.
 */
export async function startServer (t: Test, env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, [SERVER], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
  })
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
  })
  const logs: Array<Record<string, unknown>> = []
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>
        logs.push(entry)
        if (typeof entry['url'] === 'string' && String(entry['msg']).includes('listening')) resolve(entry['url'])
      } catch {
        logs.push({ raw: line })
      }
    })
    void exited.then(({ code, signal }) => reject(new Error(`server exited (${code ?? signal}) before listening: ${stderr}`)))
  })
  return { url, child, logs, exited }
}

/** POSTs JSON and returns the status and parsed body. */
export async function post (url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number, body: any, headers: Headers }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  const text = await response.text()
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers }
}

export async function get (url: string, headers: Record<string, string> = {}): Promise<{ status: number, body: any }> {
  const response = await fetch(url, { headers })
  return { status: response.status, body: await response.json() }
}
