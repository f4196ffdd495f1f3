/**
 * @cardfile/server/sqlite: the embedded SQLite storage (better-sqlite3, an optional peer
 * dependency). Apart from the root entry so that a server on another backend never loads or
 * compiles the native module.
 */
export type { SqliteStorage, SqliteStorageOptions, StorageLogger } from '../storage/sqlite-storage'
export { createSqliteStorage } from '../storage/sqlite-storage'
