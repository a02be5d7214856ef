import { open, readFile, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { Algorithm } from '../../config.js'
import { generateKey, readKeyFiles, writeKeyFile, type KeyFile } from './key-files.js'
import { pickActive } from './keyring.js'

export interface KeyTimes {
  kid: string
  createdAt: number
  activatesAt: number
  retiredAt: number | null
}

function times (file: KeyFile): KeyTimes {
  return {
    kid: file.kid,
    createdAt: Date.parse(file.createdAt),
    activatesAt: Date.parse(file.activatesAt),
    retiredAt: file.retiredAt === null ? null : Date.parse(file.retiredAt)
  }
}

/** Adds a key that is published at once and signs from `now + activateInMs` on. */
export async function rotate (dir: string, alg: Algorithm, now: number, activateInMs: number): Promise<KeyFile> {
  const file = await generateKey(alg, new Date(now), new Date(now + activateInMs))
  await writeKeyFile(dir, file, { exclusive: true })
  return file
}

/**
 * The earliest time a key stops being needed: when the key that replaced it has been signing for longer than
 * any token can live (access-token TTL plus clock skew). Before that, tokens it signed may still be valid.
 */
export function safeRetireTime (key: KeyTimes, all: readonly KeyTimes[], tokenLifetimeMs: number): number | undefined {
  const successor = all
    .filter((other) => other.kid !== key.kid && other.activatesAt > key.activatesAt && other.retiredAt === null)
    .sort((a, b) => a.activatesAt - b.activatesAt)[0]
  return successor === undefined ? undefined : successor.activatesAt + tokenLifetimeMs
}

export class RetireRefusedError extends Error {
  override name = 'RetireRefusedError'
}

/** Retires `kid` (it leaves the JWKS). Refuses the signing key and a key that may still have live tokens, unless forced. */
export async function retire (dir: string, kid: string, { now, tokenLifetimeMs, force }: { now: number, tokenLifetimeMs: number, force: boolean }): Promise<KeyFile> {
  const { keys } = await readKeyFiles(dir)
  const file = keys.find((key) => key.kid === kid)
  if (!file) throw new RetireRefusedError(`no key with kid ${kid} in ${dir}`)
  const all = keys.filter((key) => key.alg === file.alg).map(times)
  if (!force) {
    if (pickActive(all, now)?.kid === kid) throw new RetireRefusedError(`${kid} is the active signing key; rotate first (or --force)`)
    const safe = safeRetireTime(times(file), all, tokenLifetimeMs)
    if (Date.parse(file.activatesAt) <= now && (safe === undefined || safe > now)) {
      const when = safe === undefined ? 'a successor has signed for one token lifetime' : new Date(safe).toISOString()
      throw new RetireRefusedError(`${kid} may still have live tokens until ${when}; wait or use --force`)
    }
  }
  const { key: _key, ...plain } = file
  const retired: KeyFile = { ...plain, retiredAt: new Date(now).toISOString() }
  await writeKeyFile(dir, retired)
  return retired
}

export interface Schedule {
  dir: string
  alg: Algorithm
  periodMs: number
  /** How long before it signs a new key is published (at least the JWKS max-age plus the reload interval). */
  leadMs: number
  tokenLifetimeMs: number
}

export interface MaintenanceResult {
  created?: string
  retired: string[]
}

/**
 * One step of automatic rotation, run by every replica on every key reload. Replicas sharing KEYS_DIR never
 * rotate twice: the right to create the next key is a lock file named after the active key, created with
 * O_EXCL, so exactly one process wins it; retirement times are computed, not chosen, so every replica
 * writes the same value.
 */
export async function maintain (schedule: Schedule, now: number): Promise<MaintenanceResult> {
  const { keys } = await readKeyFiles(schedule.dir)
  const mine = keys.filter((key) => key.alg === schedule.alg)
  const all = mine.map(times)
  const result: MaintenanceResult = { retired: [] }

  const active = pickActive(all, now)
  const hasNext = all.some((key) => key.activatesAt > now && key.retiredAt === null)
  if (active && !hasNext && now >= active.activatesAt + schedule.periodMs - schedule.leadMs) {
    const lock = join(schedule.dir, `.rotate-${active.kid}.lock`)
    if (await acquire(lock, now)) {
      const activatesAt = Math.max(now + schedule.leadMs, active.activatesAt + schedule.periodMs)
      const file = await rotate(schedule.dir, schedule.alg, now, activatesAt - now)
      await writeFileSafe(lock, file.kid)
      result.created = file.kid
    }
  }

  for (const file of mine) {
    const key = times(file)
    if (key.retiredAt !== null) continue
    const safe = safeRetireTime(key, all, schedule.tokenLifetimeMs)
    if (safe !== undefined && safe <= now) {
      const { key: _key, ...plain } = file
      await writeKeyFile(schedule.dir, { ...plain, retiredAt: new Date(safe).toISOString() })
      result.retired.push(key.kid)
    }
  }
  return result
}

/** Creates `lock` exclusively. A lock left by a process that died before writing a key is broken after a minute. */
async function acquire (lock: string, now: number): Promise<boolean> {
  try {
    const handle = await open(lock, 'wx', 0o600)
    await handle.close()
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }
  const [info, content] = await Promise.all([stat(lock), readFile(lock, 'utf8')])
  const stale = content === '' && now - info.mtimeMs > 60_000
  if (stale) await unlink(lock).catch(() => {})
  return false
}

async function writeFileSafe (path: string, text: string) {
  const handle = await open(path, 'w', 0o600)
  try {
    await handle.writeFile(text)
  } finally {
    await handle.close()
  }
}
