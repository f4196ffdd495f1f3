/**
 * @cardfile/server/postgres: the PostgreSQL backend (the `pg` driver, an optional peer
 * dependency), for several server instances sharing one database. Apart from the root entry so
 * that a server on another backend never loads the driver.
 */
export type { PostgresBackend, PostgresBackendOptions } from '../storage/postgres-backend'
export type { PgConnectionOptions } from '../storage/postgres-database'
export { createPostgresBackend } from '../storage/postgres-backend'
