import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto'
import { createVerifier } from 'fast-jwt'
import type { Algorithm } from '../config.js'
import { frozenClaims, verifierOptions, type TokenRules } from '../services/tokens/access-token.js'
import { VERIFIED_TOKENS_MAX, VerifiedTokens } from '../services/tokens/verified-tokens.js'

/** One published key, parsed once: the key object and a fast-jwt verifier pinned to that key and its algorithm. */
export interface KeyVerifier {
  readonly kid: string
  readonly alg: Algorithm
  readonly key: KeyObject
  /**
   * Checks signature, alg, typ, iss, aud and required claims; returns the (frozen) payload or throws fast-jwt's
   * error. A token verified before is answered from the key's cache; the caller checks times and claims on every use.
   */
  readonly verify: (token: string) => Readonly<Record<string, unknown>>
}

/** The algorithm a key type can serve; a JWK whose `alg` disagrees with its own key type is refused. */
function algorithmOf (key: KeyObject): Algorithm | undefined {
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256'
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA'
  if (key.asymmetricKeyType === 'rsa') return 'RS256'
  return undefined
}

/**
 * Turns a JWK into a verifier, or throws why the key cannot be used. Each key serves exactly one algorithm
 * (RFC 8725 §3.1): its own `alg`, which must also be one the verifier accepts.
 */
export function createKeyVerifier (jwk: Record<string, unknown>, rules: TokenRules): KeyVerifier {
  const kid = jwk['kid']
  if (typeof kid !== 'string' || kid === '') throw new Error('no kid')
  if (jwk['use'] !== undefined && jwk['use'] !== 'sig') throw new Error(`use is ${String(jwk['use'])}, not sig`)
  if (jwk['kty'] !== 'EC' && jwk['kty'] !== 'OKP' && jwk['kty'] !== 'RSA') throw new Error(`kty ${String(jwk['kty'])} is not an asymmetric key type`)
  // Only the public members: a JWK that (wrongly) carries `d` must not turn into a private key here.
  const { kty, crv, x, y, n, e } = jwk as Record<string, string | undefined>
  const key = createPublicKey({ key: { kty, crv, x, y, n, e } as JsonWebKey, format: 'jwk' })
  const alg = algorithmOf(key)
  if (alg === undefined) throw new Error('unsupported key type or curve')
  if (jwk['alg'] !== undefined && jwk['alg'] !== alg) throw new Error(`alg ${String(jwk['alg'])} does not match the key type`)
  if (!rules.algorithms.includes(alg)) throw new Error(`${alg} is not an accepted algorithm`)
  if (alg === 'RS256' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw new Error('RSA key shorter than 2048 bits')

  // fast-jwt takes the key as PEM and turns it into its own key object once, here; never again per token.
  const verifySignature = createVerifier({
    ...verifierOptions({ ...rules, algorithms: [alg] }),
    key: key.export({ type: 'spki', format: 'pem' }).toString()
  }) as (token: string) => Record<string, unknown>
  // One cache per key: when the key leaves the JWKS, its verifier goes and its tokens with it.
  const verified = new VerifiedTokens<Readonly<Record<string, unknown>>>(VERIFIED_TOKENS_MAX)
  const verify = (token: string) => {
    let payload = verified.get(token)
    if (payload === undefined) {
      payload = frozenClaims(verifySignature(token))
      verified.set(token, payload)
    }
    return payload
  }
  return { kid, alg, key, verify }
}
