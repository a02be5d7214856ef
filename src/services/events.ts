/**
 * What the services report as they work, for metrics (issue 7). Every member is a cheap synchronous call that
 * must not throw; the services behave the same with or without a listener.
 */
export type LoginOutcome = 'success' | 'invalid' | 'throttled' | 'error'
export type RefreshOutcome = 'ok' | 'invalid' | 'reuse' | 'error'

export interface ServiceEvents {
  login (outcome: LoginOutcome): void
  refresh (outcome: RefreshOutcome): void
  /** `sessions` refresh-token families were revoked for `reason` (logout, reuse, logout-all, ...). */
  revoked (reason: string, sessions: number): void
  /** Milliseconds a password hash waited for a hashing slot. */
  hashWait (ms: number): void
}
