/**
 * Tokens whose signature has been checked, by their exact text: a client repeating its token (an SPA sends the
 * same one for up to ACCESS_TOKEN_TTL) pays for the signature once. Shared by Tessera's verify hook and the kit.
 *
 * Keyed by the whole token string, not a hash of it: an entry matches only the very bytes that were verified,
 * and a miss costs a Map lookup instead of the SHA-256 and hex encoding fast-jwt's own cache spends on every
 * token (twice on a miss: lookup and insert), which is a measurable share of verifying tokens that never repeat
 * (bench/README.md). Only verified tokens go in; failures are never cached. Holding the token text costs nothing
 * new: the process already held it in the request.
 *
 * What is cached is only the signature's verdict and the decoded claims. Everything that can change while a
 * token is cached (expiry and iat against the clock, the key still being trusted, revocations) is checked by
 * the caller on every use, hit or miss.
 *
 * Eviction is first in, first out: a hit costs one lookup, with no reordering; a token pushed out by `max`
 * newer ones is verified again on its next use, once.
 */
/**
 * Distinct tokens a verifier remembers, about 1 KiB each. The benchmark's "distinct tokens" pools are larger on
 * purpose, so that every one of their requests checks a signature.
 */
export const VERIFIED_TOKENS_MAX = 1000

export class VerifiedTokens<T> {
  readonly #entries = new Map<string, T>()
  readonly #max: number

  constructor (max: number) {
    if (!Number.isInteger(max) || max < 0) throw new TypeError('max must be a non-negative integer')
    this.#max = max
  }

  get size (): number {
    return this.#entries.size
  }

  get (token: string): T | undefined {
    return this.#entries.get(token)
  }

  set (token: string, value: T): void {
    if (this.#max === 0) return
    if (this.#entries.size >= this.#max && !this.#entries.has(token)) {
      // Maps iterate in insertion order: the first key is the oldest entry.
      const oldest = this.#entries.keys().next()
      if (oldest.done !== true) this.#entries.delete(oldest.value)
    }
    this.#entries.set(token, value)
  }

  clear (): void {
    this.#entries.clear()
  }
}
