import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import type { Test } from 'tap'

/** The Redis the tests use (127.0.0.1:6379 unless TEST_REDIS_URL names another). Each test gets its own key prefix. */
export const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379'

let probe: Promise<string | undefined> | undefined

function unreachableReason (): Promise<string | undefined> {
  probe ??= (async () => {
    const client = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null })
    client.on('error', () => {})
    try {
      await client.connect()
      await client.ping()
      return undefined
    } catch (error) {
      return (error as Error).message || String(error)
    } finally {
      client.disconnect()
    }
  })()
  return probe
}

/** Like postgresTestOptions: skipped with a notice without Redis, a failure under CI. */
export async function redisTestOptions (t: Test): Promise<{ skip: string | false }> {
  const reason = await unreachableReason()
  if (reason === undefined) return { skip: false }
  if (process.env['CI']) throw new Error(`CI is set but Redis at ${REDIS_URL} is unreachable (${reason}); the Redis tests must run in CI`)
  const notice = `Redis at ${REDIS_URL} is unreachable (${reason}): skipping Redis tests (set CI to make this an error)`
  t.comment(notice)
  if (!noticePrinted) process.stderr.write(`NOTICE: ${notice}\n`)
  noticePrinted = true
  return { skip: notice }
}

let noticePrinted = false

/** A key prefix of this test alone; every key under it is deleted when the test ends. */
export function redisTestPrefix (t: Test): string {
  const prefix = `tessera-test:${randomBytes(6).toString('hex')}:`
  t.teardown(async () => {
    const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 0 })
    try {
      const keys = await client.keys(`${prefix}*`)
      if (keys.length > 0) await client.del(...keys)
    } finally {
      client.disconnect()
    }
  })
  return prefix
}

/** A plain client for looking at what the service wrote. */
export function rawRedis (t: Test): Redis {
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 0 })
  t.teardown(() => client.disconnect())
  return client
}

/** The Redis address, for tests that put a proxy in front of it. */
export function redisAddress (): { host: string, port: number } {
  const url = new URL(REDIS_URL)
  return { host: url.hostname, port: Number(url.port || 6379) }
}
