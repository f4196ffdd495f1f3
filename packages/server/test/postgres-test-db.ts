import { randomBytes } from 'node:crypto'
import { inject } from 'vitest'
import { openPgDatabase, quoteIdent } from '../src/storage/postgres-database'
import type { PgDatabase } from '../src/storage/postgres-database'
import { migratePostgres } from '../src/storage/postgres-schema'

/** This run's test database (see postgres-global-setup.ts). */
export const postgresUrl = (): string => inject('postgresUrl')

/** A new, empty schema name in the test database. */
export const freshSchema = (): string => `t_${randomBytes(6).toString('hex')}`

/** Drops a schema made by a test, with everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  const db = await openPgDatabase({ url: postgresUrl() })
  try {
    await db.run(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`)
  } finally {
    await db.close()
  }
}

/** A migrated, empty schema of its own, for a store's tests, and what removes it. */
export async function openTestDatabase(): Promise<{
  readonly db: PgDatabase
  readonly schema: string
  cleanup(): Promise<void>
}> {
  const schema = freshSchema()
  const db = await openPgDatabase({ url: postgresUrl(), schema, maxConnections: 4 })
  await migratePostgres(db)
  return {
    db,
    schema,
    async cleanup() {
      await db.close()
      await dropSchema(schema)
    },
  }
}
