import { randomUUID } from 'node:crypto'
import type { Algorithm } from '../../src/config.js'
import { createLogger } from '../../src/logger.js'
import { createKeyring } from '../../src/services/keys/keyring.js'
import { createAccessTokenSigner } from '../../src/services/tokens/access-token.js'

export interface BenchUser {
  id: string
  username: string
  roles: string[]
}

export interface MintedTokens {
  tokens: string[]
  users: BenchUser[]
  /** SPKI PEM of the signing key, for the reference and Express servers. */
  publicPem: string
  kid: string
}

/**
 * Access tokens exactly as Tessera issues them at login (same signer code, same claims, same header with
 * kid and typ at+jwt), signed with the private key Tessera generated in KEYS_DIR. Logging in 10,000 times
 * would cost 10,000 argon2 hashes; signing directly costs a few hundred milliseconds.
 */
export async function mintAccessTokens ({ keysDir, alg, issuer, audience, ttl, count }: {
  keysDir: string
  alg: Algorithm
  issuer: string
  audience: string
  ttl: number
  count: number
}): Promise<MintedTokens> {
  const clock = { now: () => Date.now() }
  const keyring = await createKeyring({ dir: keysDir, alg, clock, log: createLogger('silent') })
  const signer = createAccessTokenSigner({ keyring, clock, issuer, audience, ttl })
  const users: BenchUser[] = []
  const tokens: string[] = []
  for (let i = 0; i < count; i++) {
    const user = { id: randomUUID(), username: `bench${String(i).padStart(7, '0')}`, roles: ['user'] }
    users.push(user)
    tokens.push(signer.sign(user, randomUUID()).token)
  }
  const key = keyring.signingKey()
  return { tokens, users, publicPem: key.publicPem, kid: key.kid }
}
