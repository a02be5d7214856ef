import { join } from 'node:path'
import { Writable } from 'node:stream'
import type { Test } from 'tap'
import { buildApp, type App } from '../src/app.js'
import type { Clock } from '../src/clock.js'
import { loadConfig, type Config } from '../src/config.js'
import { createLogger } from '../src/logger.js'
import type { Store } from '../src/store/types.js'

export interface TestApp {
  app: App
  config: Config
  /** Every log line the app wrote, as raw JSON text (what an operator's log shipper would see). */
  logs: string[]
  dir: string
}

/** A controllable clock: tests move time instead of sleeping. */
export function frozenClock (start = Date.now()): Clock & { advance (ms: number): void, set (ms: number): void } {
  let now = start
  return {
    now: () => now,
    advance (ms) { now += ms },
    set (ms) { now = ms }
  }
}

/**
 * Builds the real app, exactly as server.ts does, on a fresh temporary folder: its own SQLite file and
 * its own keys, generated at run time. `env` is the environment the app would have read.
 */
export async function buildTestApp (t: Test, env: Record<string, string> = {}, options: { clock?: Clock, dir?: string, store?: Store } = {}): Promise<TestApp> {
  const dir = options.dir ?? t.testdir()
  const config = loadConfig({
    KEYS_DIR: join(dir, 'keys'),
    DATABASE_URL: `sqlite:${join(dir, 'auth.db')}`,
    LOG_LEVEL: 'info',
    HASH_CONCURRENCY: '2',
    ...env
  })
  const logs: string[] = []
  const sink = new Writable({
    write (chunk, _encoding, callback) {
      logs.push(...chunk.toString().split('\n').filter(Boolean))
      callback()
    }
  })
  const app = await buildApp({
    config,
    logger: createLogger(config.logLevel, sink),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.store ? { store: options.store } : {})
  })
  t.teardown(async () => await app.close())
  return { app, config, logs, dir }
}

export const PASSWORD = 'correct horse battery staple'

export async function register (app: App, username = 'alice', password = PASSWORD) {
  const response = await app.inject({ method: 'POST', url: '/auth/register', payload: { username, password } })
  if (response.statusCode !== 201) throw new Error(`register failed: ${response.statusCode} ${response.body}`)
  return response.json<{ user: { id: string, username: string, roles: string[] } }>().user
}

export interface Tokens {
  access_token: string
  refresh_token: string
  expires_in: number
  refresh_expires_in: number
  token_type: string
  user: { id: string, username: string, roles: string[] }
}

export async function login (app: App, username = 'alice', password = PASSWORD): Promise<Tokens> {
  const response = await app.inject({ method: 'POST', url: '/auth/login', payload: { username, password } })
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.statusCode} ${response.body}`)
  return response.json<Tokens>()
}

export async function registerAndLogin (app: App, username = 'alice', password = PASSWORD): Promise<Tokens> {
  await register(app, username, password)
  return await login(app, username, password)
}

export function bearer (token: string) {
  return { authorization: `Bearer ${token}` }
}
