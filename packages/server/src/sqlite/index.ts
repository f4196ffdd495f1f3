/**
 * @cardfile/server/sqlite: the embedded SQLite backend (better-sqlite3, an optional peer
 * dependency). Apart from the root entry so that a server on another backend never loads or
 * compiles the native module.
 */
export type { SqliteBackend, SqliteBackendOptions, StorageLogger } from '../storage/sqlite-backend'
export { createSqliteBackend } from '../storage/sqlite-backend'
