import { createPublicKey, type KeyObject } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { Algorithm } from '../../config.js'
import type { Clock } from '../../clock.js'
import { AppError } from '../../errors.js'
import { generateKey, publicJwk, readKeyFiles, writeKeyFile, type KeyFile, type PublicJwk } from './key-files.js'

export type KeyStatus = 'next' | 'active' | 'previous' | 'retired'

export interface SigningKey {
  readonly kid: string
  readonly alg: Algorithm
  readonly createdAt: number
  readonly activatesAt: number
  readonly retiredAt: number | null
  readonly privateKey: KeyObject
  readonly publicKey: KeyObject
  /** SPKI PEM: what fast-jwt verifies with. */
  readonly publicPem: string
  readonly jwk: PublicJwk
}

export interface KeyListing extends Omit<SigningKey, 'privateKey' | 'publicKey' | 'publicPem' | 'jwk'> {
  readonly status: KeyStatus
}

export interface Keyring {
  /** Re-reads KEYS_DIR. A broken file is logged and skipped; the keys already loaded stay in service. */
  reload (): Promise<void>
  /** The newest active key: the one that signs now. */
  signingKey (): SigningKey
  /** A published (non-retired) key of the configured algorithm, by kid. */
  verificationKey (kid: string): SigningKey | undefined
  /** The public JWKS document: every key that is not retired. */
  jwks (): { keys: PublicJwk[] }
  list (): KeyListing[]
  readonly ready: boolean
}

export interface KeyringOptions {
  dir: string
  alg: Algorithm
  clock: Clock
  log: FastifyBaseLogger
}

export function statusOf (key: Pick<SigningKey, 'kid' | 'activatesAt' | 'retiredAt'>, activeKid: string | undefined, now: number): KeyStatus {
  if (key.retiredAt !== null && key.retiredAt <= now) return 'retired'
  if (key.activatesAt > now) return 'next'
  return key.kid === activeKid ? 'active' : 'previous'
}

/** The newest key that has activated and is not retired signs; ties go to the later-created key. */
export function pickActive<K extends Pick<SigningKey, 'kid' | 'activatesAt' | 'createdAt' | 'retiredAt'>> (keys: readonly K[], now: number): K | undefined {
  let best: K | undefined
  for (const key of keys) {
    if (key.activatesAt > now || (key.retiredAt !== null && key.retiredAt <= now)) continue
    if (!best || key.activatesAt > best.activatesAt || (key.activatesAt === best.activatesAt && key.createdAt > best.createdAt)) best = key
  }
  return best
}

function toSigningKey (file: KeyFile & { key: KeyObject }): SigningKey {
  const publicKey = createPublicKey(file.key)
  return {
    kid: file.kid,
    alg: file.alg,
    createdAt: Date.parse(file.createdAt),
    activatesAt: Date.parse(file.activatesAt),
    retiredAt: file.retiredAt === null ? null : Date.parse(file.retiredAt),
    privateKey: file.key,
    publicKey,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    jwk: publicJwk(publicKey, file.kid, file.alg)
  }
}

export async function createKeyring ({ dir, alg, clock, log }: KeyringOptions): Promise<Keyring> {
  let keys: SigningKey[] = []
  // Key files already reported as broken, so a periodic reload does not repeat the same warning forever.
  let reportedErrors = new Set<string>()

  async function reload (): Promise<void> {
    const { keys: files, errors } = await readKeyFiles(dir)
    const seen = new Set<string>()
    for (const { file, error } of errors) {
      const id = `${file}: ${error}`
      seen.add(id)
      if (!reportedErrors.has(id)) log.error({ file, dir, reason: error }, 'skipping unreadable key file')
    }
    reportedErrors = seen
    const next = files.filter((file) => file.alg === alg).map(toSigningKey)
    const ignored = files.filter((file) => file.alg !== alg).map((file) => file.kid)
    if (ignored.length > 0) log.debug({ ignored, alg }, 'ignoring keys of another algorithm than JWT_ALG')
    const before = keys.map((k) => `${k.kid}:${k.activatesAt}:${k.retiredAt}`).join()
    keys = next
    if (keys.map((k) => `${k.kid}:${k.activatesAt}:${k.retiredAt}`).join() !== before) {
      log.info({ kids: keys.map((k) => k.kid), active: pickActive(keys, clock.now())?.kid }, 'signing keys loaded')
    }
  }

  await reload()

  return {
    reload,
    get ready () {
      return pickActive(keys, clock.now()) !== undefined
    },
    signingKey () {
      const key = pickActive(keys, clock.now())
      if (!key) throw new AppError('NOT_READY', 'No signing key is available', { reason: `no active ${alg} key in ${dir}` })
      return key
    },
    verificationKey (kid) {
      const now = clock.now()
      return keys.find((key) => key.kid === kid && (key.retiredAt === null || key.retiredAt > now))
    },
    jwks () {
      const now = clock.now()
      return { keys: keys.filter((key) => key.retiredAt === null || key.retiredAt > now).map((key) => key.jwk) }
    },
    list () {
      const now = clock.now()
      const activeKid = pickActive(keys, now)?.kid
      return keys.map(({ kid, alg, createdAt, activatesAt, retiredAt }) => ({
        kid, alg, createdAt, activatesAt, retiredAt, status: statusOf({ kid, activatesAt, retiredAt }, activeKid, now)
      }))
    }
  }
}

export class MissingKeyError extends Error {
  constructor (dir: string, alg: Algorithm) {
    super(`No ${alg} signing key in ${dir}. In production keys are never generated on the fly: ` +
      'create one with `npm run cli -- keys generate` (with the same KEYS_DIR and JWT_ALG) or mount your key files there.')
    this.name = 'MissingKeyError'
  }
}

/**
 * Makes sure a key can sign. Outside production a missing key is generated, loudly: a development key
 * lives on one disk and dies with it. In production that would silently split replicas, so it refuses.
 */
export async function ensureSigningKey (keyring: Keyring, options: KeyringOptions & { production: boolean }): Promise<void> {
  if (keyring.ready) return
  if (options.production) throw new MissingKeyError(options.dir, options.alg)
  const file = await generateKey(options.alg, new Date(options.clock.now()))
  await writeKeyFile(options.dir, file, { exclusive: true })
  options.log.warn({ kid: file.kid, dir: options.dir, alg: options.alg },
    '!!! DEVELOPMENT SIGNING KEY GENERATED: no key was found, so a new private key was written to KEYS_DIR. ' +
    'Never use generated keys in production; see keys/README.md !!!')
  await keyring.reload()
}
