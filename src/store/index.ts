import type { StoreUrl } from '../config.js'
import { createPostgresStore } from './postgres.js'
import { createSqliteStore } from './sqlite.js'
import type { Store } from './types.js'

export function createStore (database: StoreUrl): Store {
  return database.kind === 'sqlite' ? createSqliteStore(database.file) : createPostgresStore({ url: database.url })
}

export type * from './types.js'
