/** The one storage interface. Routes and services depend on this, never on a database. */

export interface User {
  id: string
  username: string
  roles: string[]
}

export interface UserRecord extends User {
  passwordHash: string
  createdAt: number
  updatedAt: number
  disabledAt: number | null
  /** Access tokens of this user issued before this time (seconds, like `iat`) are refused by verifiers that follow revocations. */
  tokensNotBefore: number | null
}

export interface NewUser {
  id: string
  username: string
  passwordHash: string
  roles: string[]
  now: number
}

/** A refresh-token family: one login session. Its id is the `sid` claim of every access token it yields. */
export interface Family {
  id: string
  userId: string
  createdAt: number
  /** Absolute end of the session; rotation never moves it. */
  expiresAt: number
  revokedAt: number | null
  revokeReason: string | null
}

export interface RefreshTokenRecord {
  hash: string
  familyId: string
  createdAt: number
  spentAt: number | null
  /** Random value stored when the token is spent; with the token itself it derives the successor (grace retries). */
  rotationNonce: string | null
  successorHash: string | null
}

export interface Revocation {
  seq: number
  kind: 'session' | 'user'
  /** sid for `session`, user id for `user`. */
  subject: string
  /** For `user`: tokens issued before this time (seconds) are revoked. */
  notBefore: number | null
  createdAt: number
  /** When every token this entry can affect has expired, in ms; the feed drops it afterwards. */
  expiresAt: number
}

export class UsernameTakenError extends Error {
  constructor () {
    super('username is taken')
    this.name = 'UsernameTakenError'
  }
}

export interface UserStore {
  create (user: NewUser): Promise<User>
  findByUsername (username: string): Promise<UserRecord | undefined>
  findById (id: string): Promise<UserRecord | undefined>
  list (): Promise<UserRecord[]>
  setPasswordHash (id: string, passwordHash: string, now: number): Promise<void>
  setRoles (id: string, roles: string[], now: number): Promise<void>
  setDisabled (id: string, disabled: boolean, now: number): Promise<void>
  setTokensNotBefore (id: string, notBefore: number, now: number): Promise<void>
}

export interface SessionStore {
  createFamily (family: Omit<Family, 'revokedAt' | 'revokeReason'>, firstTokenHash: string): Promise<void>
  findToken (hash: string): Promise<{ token: RefreshTokenRecord, family: Family } | undefined>
  /** Everything a refresh decides on, in one read: the token, its family and the family's user (undefined when gone). */
  findForRefresh (hash: string): Promise<{ token: RefreshTokenRecord, family: Family, user: UserRecord | undefined } | undefined>
  /**
   * Spends `hash` and records its successor, only if it was unspent: the database decides, so any number of
   * concurrent calls on any number of replicas yield exactly one `true`.
   */
  rotate (hash: string, successor: { hash: string, nonce: string }, now: number): Promise<boolean>
  revokeFamily (familyId: string, reason: string, now: number): Promise<boolean>
  /** Revokes every live family of the user; returns the ids it revoked. */
  revokeUserFamilies (userId: string, reason: string, now: number): Promise<string[]>
  /** Deletes families (and their tokens) whose absolute lifetime ended before `before`. */
  purgeExpired (before: number): Promise<number>
}

export interface RevocationStore {
  add (entry: Omit<Revocation, 'seq'>): Promise<void>
  /** Entries with seq > `after` that are still relevant at `now`, oldest first. */
  since (after: number, now: number, limit: number): Promise<Revocation[]>
  purge (now: number): Promise<number>
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres'
  readonly users: UserStore
  readonly sessions: SessionStore
  readonly revocations: RevocationStore
  migrate (): Promise<void>
  /** Resolves when the database answers; used by /readyz. */
  ping (): Promise<void>
  close (): Promise<void>
}
