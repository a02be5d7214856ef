/** Network-level failures of the database: the store is down, not the request wrong. Answered 503, never 500. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN',
  // PostgreSQL: admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections
  '57P01', '57P02', '57P03', '53300',
  // SQLite: another process holds the write lock longer than busy_timeout
  'SQLITE_BUSY', 'SQLITE_LOCKED'
])

const CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'Client has encountered a connection error',
  'connection timeout'
]

export function isStoreUnavailable (error: unknown): boolean {
  let current: unknown = error
  for (let depth = 0; current && depth < 4; depth++) {
    const { code, message } = current as { code?: unknown, message?: unknown }
    if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true
    if (typeof message === 'string' && CONNECTION_MESSAGES.some((m) => message.includes(m))) return true
    current = (current as { cause?: unknown }).cause
  }
  return false
}
