import { createHash, createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto'
import { link, mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { Algorithm } from '../../config.js'

const generateKeyPairAsync = promisify(generateKeyPair)

/** What one file in KEYS_DIR holds. Times are ISO-8601 so an operator can read and edit them. */
export interface KeyFile {
  kid: string
  alg: Algorithm
  createdAt: string
  activatesAt: string
  retiredAt: string | null
  /** PKCS#8 PEM. It never leaves KEYS_DIR: only the public half is derived and published. */
  privateKey: string
}

export interface PublicJwk {
  kty: string
  kid: string
  alg: Algorithm
  use: 'sig'
  [member: string]: string
}

export const KEY_FILE_SUFFIX = '.key.json'

export function keyFileName (kid: string): string {
  return `${kid}${KEY_FILE_SUFFIX}`
}

export async function generateKey (alg: Algorithm, now: Date, activatesAt: Date = now): Promise<KeyFile> {
  const { privateKey } = alg === 'ES256'
    ? await generateKeyPairAsync('ec', { namedCurve: 'P-256' })
    : alg === 'EdDSA'
      ? await generateKeyPairAsync('ed25519')
      : await generateKeyPairAsync('rsa', { modulusLength: 2048 })
  return {
    kid: thumbprint(createPublicKey(privateKey)),
    alg,
    createdAt: now.toISOString(),
    activatesAt: activatesAt.toISOString(),
    retiredAt: null,
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  }
}

/**
 * RFC 7638 JWK thumbprint: a kid that is derived from the key itself, so two files can never
 * claim one kid for different keys and replicas agree on it without coordination.
 */
export function thumbprint (publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' }) as Record<string, string>
  const members = jwk['kty'] === 'EC'
    ? { crv: jwk['crv'], kty: jwk['kty'], x: jwk['x'], y: jwk['y'] }
    : jwk['kty'] === 'OKP'
      ? { crv: jwk['crv'], kty: jwk['kty'], x: jwk['x'] }
      : { e: jwk['e'], kty: jwk['kty'], n: jwk['n'] }
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url')
}

export function publicJwk (publicKey: KeyObject, kid: string, alg: Algorithm): PublicJwk {
  const { kty, crv, x, y, n, e } = publicKey.export({ format: 'jwk' }) as Record<string, string | undefined>
  const members = Object.entries({ kty, crv, x, y, n, e }).filter((entry): entry is [string, string] => entry[1] !== undefined)
  return { ...Object.fromEntries(members), kty: kty ?? '', kid, alg, use: 'sig' }
}

/** Parses and checks one key file; throws with a readable reason when it is not usable. */
export function parseKeyFile (text: string): KeyFile & { key: KeyObject } {
  const data = JSON.parse(text) as Partial<KeyFile>
  if (typeof data.kid !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(data.kid)) throw new Error('missing or malformed kid')
  if (data.alg !== 'ES256' && data.alg !== 'EdDSA' && data.alg !== 'RS256') throw new Error(`unsupported alg ${String(data.alg)}`)
  for (const field of ['createdAt', 'activatesAt'] as const) {
    if (typeof data[field] !== 'string' || Number.isNaN(Date.parse(data[field]))) throw new Error(`${field} is not a date`)
  }
  if (data.retiredAt != null && (typeof data.retiredAt !== 'string' || Number.isNaN(Date.parse(data.retiredAt)))) {
    throw new Error('retiredAt is not a date')
  }
  if (typeof data.privateKey !== 'string') throw new Error('missing privateKey')
  const key = createPrivateKey(data.privateKey)
  const expected = data.alg === 'ES256' ? 'ec' : data.alg === 'EdDSA' ? 'ed25519' : 'rsa'
  if (key.asymmetricKeyType !== expected) throw new Error(`key type ${String(key.asymmetricKeyType)} does not match alg ${data.alg}`)
  if (data.alg === 'ES256' && key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error('ES256 needs a P-256 key')
  if (data.alg === 'RS256' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw new Error('RS256 needs at least 2048 bits (RFC 7518 §3.3)')
  return { ...(data as KeyFile), retiredAt: data.retiredAt ?? null, key }
}

export interface ReadResult {
  keys: Array<KeyFile & { key: KeyObject }>
  errors: Array<{ file: string, error: string }>
}

/** Reads every key file in `dir`; a broken file is reported and skipped, never fatal. */
export async function readKeyFiles (dir: string): Promise<ReadResult> {
  const result: ReadResult = { keys: [], errors: [] }
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return result
    throw error
  }
  for (const name of names.filter((n) => n.endsWith(KEY_FILE_SUFFIX)).sort()) {
    try {
      const parsed = parseKeyFile(await readFile(join(dir, name), 'utf8'))
      if (keyFileName(parsed.kid) !== name) throw new Error(`file name does not match kid ${parsed.kid}`)
      result.keys.push(parsed)
    } catch (error) {
      result.errors.push({ file: name, error: (error as Error).message })
    }
  }
  return result
}

/**
 * Writes a key file so that a reader never sees half of it: a private temporary file (mode 0600)
 * renamed into place. With `exclusive`, an existing file with that name is left alone and false is returned.
 */
export async function writeKeyFile (dir: string, file: KeyFile, { exclusive = false } = {}): Promise<boolean> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const target = join(dir, keyFileName(file.kid))
  const temp = join(dir, `.${file.kid}.${process.pid}.${Date.now()}.tmp`)
  const handle = await open(temp, 'wx', 0o600)
  try {
    await handle.writeFile(`${JSON.stringify(file, null, 2)}\n`)
    await handle.sync()
  } finally {
    await handle.close()
  }
  if (!exclusive) {
    await rename(temp, target)
    return true
  }
  // link() fails with EEXIST atomically: of two replicas racing to write one kid, exactly one wins.
  try {
    await link(temp, target)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  } finally {
    await unlink(temp)
  }
}
