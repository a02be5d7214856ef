import { createHash, createHmac, randomBytes } from 'node:crypto'

/** 256 random bits, base64url: 43 characters (DESIGN.md: at least 256 bits). */
export function newRefreshToken (): string {
  return randomBytes(32).toString('base64url')
}

export const REFRESH_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/

/**
 * The store keeps SHA-256 of a token, never the token. A fast hash is right here (unlike passwords):
 * the input is 256 random bits, so there is nothing to guess, and lookups stay indexable.
 */
export function hashRefreshToken (token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

/**
 * The successor of a rotation is derived from the spent token and a random nonce stored with it. Only
 * the holder of the spent token can recompute it, so a retry inside the grace window gets the same
 * successor back without the store ever holding a usable token; the fresh nonce keeps a stolen old
 * token from predicting future ones.
 */
export function deriveSuccessor (spentToken: string, nonce: string): string {
  return createHmac('sha256', spentToken).update(nonce).digest('base64url')
}

export function newNonce (): string {
  return randomBytes(32).toString('hex')
}
