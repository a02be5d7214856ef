import type { Generated } from 'kysely'

/** Column types as Kysely sees them. Times are integer milliseconds since the epoch on every database. */
export interface Database {
  users: {
    id: string
    username: string
    /** Lower-cased NFKC form: the unique key that makes "Alice" and "alice" one account. */
    username_key: string
    password_hash: string
    /** JSON array of strings. */
    roles: string
    created_at: number
    updated_at: number
    disabled_at: number | null
    tokens_not_before: number | null
  }
  refresh_families: {
    id: string
    user_id: string
    created_at: number
    expires_at: number
    revoked_at: number | null
    revoke_reason: string | null
  }
  refresh_tokens: {
    token_hash: string
    family_id: string
    created_at: number
    spent_at: number | null
    rotation_nonce: string | null
    successor_hash: string | null
  }
  revocations: {
    seq: Generated<number>
    kind: 'session' | 'user'
    subject: string
    not_before: number | null
    created_at: number
    expires_at: number
  }
}
