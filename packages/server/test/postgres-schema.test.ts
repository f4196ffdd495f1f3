import { afterEach, describe, expect, it } from 'vitest'
import { openPgDatabase } from '../src/storage/postgres-database'
import type { PgDatabase } from '../src/storage/postgres-database'
import { POSTGRES_SCHEMA_VERSION, migratePostgres } from '../src/storage/postgres-schema'
import { dropSchema, freshSchema, postgresUrl } from './postgres-test-db'

describe('PostgreSQL schema migrations', () => {
  const opened: { db: PgDatabase; schema: string }[] = []
  const open = async (schema = freshSchema()): Promise<PgDatabase> => {
    const db = await openPgDatabase({ url: postgresUrl(), schema, maxConnections: 2 })
    opened.push({ db, schema })
    return db
  }
  afterEach(async () => {
    for (const { db, schema } of opened.splice(0)) {
      await db.close()
      await dropSchema(schema)
    }
  })

  it('creates every table once, even when instances start together', async () => {
    const schema = freshSchema()
    const [a, b, c] = await Promise.all([open(schema), open(schema), open(schema)])
    await Promise.all([migratePostgres(a!), migratePostgres(b!), migratePostgres(c!)])
    const versions = await a!.rows<{ version: number }>('SELECT version FROM schema_migrations')
    expect(versions.map((v) => v.version)).toEqual(
      Array.from({ length: POSTGRES_SCHEMA_VERSION }, (_, i) => i + 1),
    )
    const generation = await a!.rows<{ value: string }>(
      "SELECT value FROM store_meta WHERE key = 'generation'",
    )
    expect(generation).toHaveLength(1)
    expect(generation[0]!.value).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('refuses a database written by a newer version', async () => {
    const db = await open()
    await migratePostgres(db)
    await db.run('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)', [
      POSTGRES_SCHEMA_VERSION + 1,
    ])
    await expect(migratePostgres(db)).rejects.toThrow(/newer than this server supports/)
  })

  it('keeps the deleted-contacts log append-only, whatever statement is tried', async () => {
    const db = await open()
    await migratePostgres(db)
    await db.run(
      `INSERT INTO deleted_contacts (workspace, id, hint, channel, deleted_at, deleted_by_user)
       VALUES ('w', 'c1', 'a***@x.com', 'email', 1, 'admin-1')`,
    )
    await expect(db.run("UPDATE deleted_contacts SET hint = 'x'")).rejects.toThrow(/append-only/)
    await expect(db.run('DELETE FROM deleted_contacts')).rejects.toThrow(/append-only/)
    await expect(db.run('TRUNCATE deleted_contacts')).rejects.toThrow(/append-only/)
    expect(await db.rows('SELECT id FROM deleted_contacts')).toEqual([{ id: 'c1' }])
  })

  it('answers an unreachable server with a typed unavailable error', async () => {
    const url = new URL(postgresUrl())
    url.port = '1'
    await expect(
      openPgDatabase({ url: url.toString(), connectTimeoutMs: 1000 }),
    ).rejects.toMatchObject({ code: 'unavailable' })
  })
})
