import { randomBytes } from 'node:crypto'
import argon2 from 'argon2'
import { createLimiter, type Limiter } from './limiter.js'

export interface Argon2Params {
  memoryKiB: number
  timeCost: number
  parallelism: number
}

export interface PasswordHasher {
  hash (password: string): Promise<string>
  /**
   * Checks `password` against `hash`; with no hash (unknown user) it does the same work against a dummy
   * hash and fails, so neither the answer nor its timing tells an unknown user from a wrong password.
   */
  verify (hash: string | undefined, password: string): Promise<{ ok: boolean, needsRehash: boolean }>
  readonly limiter: Limiter
}

export async function createPasswordHasher ({ params, concurrency, queueLimit, onWait }: {
  params: Argon2Params
  concurrency: number
  queueLimit: number
  onWait?: (ms: number) => void
}): Promise<PasswordHasher> {
  const options = {
    type: argon2.argon2id,
    memoryCost: params.memoryKiB,
    timeCost: params.timeCost,
    parallelism: params.parallelism
  }
  const limiter = createLimiter({ concurrency, queueLimit, ...(onWait ? { onWait } : {}) })
  // argon2's binding hashes on the libuv thread pool: the event loop never blocks, the limiter bounds the threads used.
  const hash = async (password: string) => await limiter.run(async () => await argon2.hash(password, options))
  const dummyHash = await argon2.hash(randomBytes(32).toString('base64url'), options)
  // argon2.needsRehash compares cost and version only: an argon2i or argon2d hash with the same cost is outdated too.
  const isOutdated = (stored: string) => !stored.startsWith('$argon2id$') || argon2.needsRehash(stored, options)

  return {
    limiter,
    hash,
    async verify (stored, password) {
      const ok = await limiter.run(async () => {
        try {
          return await argon2.verify(stored ?? dummyHash, password)
        } catch {
          // A malformed stored hash is a failed login, not a crash.
          return false
        }
      })
      return { ok: ok && stored !== undefined, needsRehash: ok && stored !== undefined && isOutdated(stored) }
    }
  }
}
