import { randomBytes } from 'node:crypto'
import pg from 'pg'
import type { Test } from 'tap'

/**
 * The PostgreSQL server the tests use: 127.0.0.1:5432, user postgres (trust auth), unless TEST_POSTGRES_URL
 * names another. Every test gets its own database and drops it afterwards, so runs never see each other.
 */
export const POSTGRES_ADMIN_URL = process.env['TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres'

let probe: Promise<string | undefined> | undefined

/** Why PostgreSQL cannot be used, or undefined when it answers. Asked once per test process. */
function unreachableReason (): Promise<string | undefined> {
  probe ??= (async () => {
    const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 3000 })
    client.on('error', () => {})
    try {
      await client.connect()
      await client.query('select 1')
      return undefined
    } catch (error) {
      return (error as Error).message || (error as { code?: string }).code || String(error)
    } finally {
      await client.end().catch(() => {})
    }
  })()
  return probe
}

/**
 * Tap options for a PostgreSQL test: `{ skip: false }` when the server answers. Without it the tests are
 * skipped with a printed notice, except under CI, where a missing server must fail the run, not hide it.
 */
export async function postgresTestOptions (t: Test): Promise<{ skip: string | false }> {
  const reason = await unreachableReason()
  if (reason === undefined) return { skip: false }
  const where = POSTGRES_ADMIN_URL.replace(/\/\/[^@/]*@/, '//')
  if (process.env['CI']) {
    throw new Error(`CI is set but PostgreSQL at ${where} is unreachable (${reason}); the PostgreSQL tests must run in CI`)
  }
  const notice = `PostgreSQL at ${where} is unreachable (${reason}): skipping PostgreSQL tests (set CI to make this an error)`
  t.comment(notice)
  if (!noticePrinted) process.stderr.write(`NOTICE: ${notice}\n`)
  noticePrinted = true
  return { skip: notice }
}

let noticePrinted = false

function databaseUrl (name: string): string {
  const url = new URL(POSTGRES_ADMIN_URL)
  url.pathname = `/${name}`
  return url.toString()
}

async function admin<T> (work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 5000 })
  client.on('error', () => {})
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end().catch(() => {})
  }
}

/** Creates `tessera_test_<random>` and drops it (with any connection left open) when `t` ends. Returns its URL. */
export async function createTestDatabase (t: Test): Promise<string> {
  const name = `tessera_test_${randomBytes(6).toString('hex')}`
  await admin((client) => client.query(`create database ${name}`))
  t.teardown(async () => {
    await admin((client) => client.query(`drop database if exists ${name} with (force)`))
  })
  return databaseUrl(name)
}

/** The port part of a PostgreSQL URL, for tests that put a proxy in front of it. */
export function postgresAddress (): { host: string, port: number } {
  const url = new URL(POSTGRES_ADMIN_URL)
  return { host: url.hostname, port: Number(url.port || 5432) }
}

/** The same database reached through another host and port (a proxy the test controls). */
export function throughPort (databaseUrlText: string, port: number): string {
  const url = new URL(databaseUrlText)
  url.hostname = '127.0.0.1'
  url.port = String(port)
  return url.toString()
}
