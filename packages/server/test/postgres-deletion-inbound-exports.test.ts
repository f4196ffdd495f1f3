import { randomBytes } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createPostgresDeletionLog } from '../src/deletion/postgres-deletion-log'
import type { DeletionRecord } from '../src/deletion/deletion-log'
import { createPostgresExportStore } from '../src/exports/postgres-export-store'
import { createPostgresInboundLog } from '../src/ingestion/postgres-inbound-log'
import type { InboundResult } from '../src/ingestion/inbound-log'
import { openPgDatabase } from '../src/storage/postgres-database'
import type { PgDatabase } from '../src/storage/postgres-database'
import { codeOf } from './contract-helpers'
import { openTestDatabase, postgresUrl } from './postgres-test-db'

/** Writes a contacts row directly, as the document store's index write would. */
async function insertContact(
  db: PgDatabase,
  workspace: string,
  id: string,
  createdAt: number,
): Promise<void> {
  await db.run(
    `INSERT INTO contacts (workspace, id, channel, platform_user_id, hint, vip, match_value,
       values_json, created_at, updated_at)
     VALUES ($1, $2, 'whatsapp', $3, $4, 0, NULL, '{}', $5, $5)`,
    [workspace, id, `pu-${id}`, `hint-${id}`, createdAt],
  )
}

const record = (workspace: string, id: string, deletedAt = 1_000): DeletionRecord => ({
  workspace,
  id,
  hint: '@an***a',
  channel: 'instagram',
  deletedAt,
  deletedBy: { userId: 'u-admin', name: null },
})

const answer = (contactId: string): InboundResult => ({
  contactId,
  conversationId: `v-${contactId}`,
  createdContact: true,
  createdConversation: false,
})

describe('PostgreSQL deletion log, inbound log and export store', () => {
  let db: PgDatabase
  let schema: string
  let cleanup: () => Promise<void>
  const others: PgDatabase[] = []

  beforeEach(async () => {
    ;({ db, schema, cleanup } = await openTestDatabase())
  })

  afterEach(async () => {
    for (const other of others.splice(0)) await other.close()
    await cleanup()
  })

  /**
   * Another pool on the same schema, as a second server instance would have; its connections
   * carry an application name of their own so a test can find them in pg_stat_activity.
   */
  const instance = async (maxConnections = 4): Promise<{ db: PgDatabase; name: string }> => {
    const name = `cardfile_test_${randomBytes(4).toString('hex')}`
    const url = new URL(postgresUrl())
    url.searchParams.set('application_name', name)
    const other = await openPgDatabase({ url: url.toString(), schema, maxConnections })
    others.push(other)
    return { db: other, name }
  }

  it('gives a snapshot a connection of its own and returns it to the pool on close', async () => {
    const one = await instance(1)
    await insertContact(db, 'w1', 'c1', 1)
    const exports = createPostgresExportStore(one.db)

    const s = await exports.openContactSnapshot('w1', { from: null, to: null })
    const state = await db.one<{ state: string; n: number }>(
      `SELECT state, count(*) OVER () AS n FROM pg_stat_activity WHERE application_name = $1`,
      [one.name],
    )
    expect(state).toEqual({ state: 'idle in transaction', n: 1 })
    await s.close()
    // The only connection of the pool is back: a query gets it at once.
    expect(await one.db.one('SELECT 1 AS x')).toEqual({ x: 1 })
    const again = await exports.openContactSnapshot('w1', { from: null, to: null })
    expect((await again.next(10)).map((r) => r.id)).toEqual(['c1'])
    await again.close()
  })

  it('reads in a read-only transaction', async () => {
    const one = await instance(1)
    const exports = createPostgresExportStore(one.db)
    const s = await exports.openContactSnapshot('w1', { from: null, to: null })
    await s.close()
    // The setting is of the transaction: the pool's next one is a plain writable one.
    expect(await one.db.one('SHOW transaction_read_only')).toEqual({ transaction_read_only: 'off' })
    const levels = await one.db.transaction(
      (tx) => tx.one<{ transaction_isolation: string }>('SHOW transaction_isolation'),
      { isolation: 'read committed' },
    )
    expect(levels?.transaction_isolation).toBe('read committed')
  })

  it('rejects a read with a typed error when its connection is lost, and frees it', async () => {
    const one = await instance(1)
    for (let i = 1; i <= 3; i++) await insertContact(db, 'w1', `c${i}`, i)
    const s = await createPostgresExportStore(one.db).openContactSnapshot('w1', {
      from: null,
      to: null,
    })
    expect((await s.next(1)).map((r) => r.id)).toEqual(['c1'])

    await db.run(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
      [one.name],
    )
    expect(await codeOf(s.next(1))).toBe('unavailable')
    await expect(s.next(1)).rejects.toThrow(/closed/)
    await s.close()
    // The broken connection was dropped, not handed out again.
    expect(await one.db.one('SELECT 1 AS x')).toEqual({ x: 1 })
  })

  it('orders ids byte-wise whatever the collation, as the other engines do', async () => {
    for (const id of ['b', 'é', 'B', 'a', 'Z']) await insertContact(db, 'w1', id, 5)
    const s = await createPostgresExportStore(db).openContactSnapshot('w1', {
      from: null,
      to: null,
    })
    const ids: string[] = []
    for (let rows = await s.next(2); rows.length > 0; rows = await s.next(2)) {
      ids.push(...rows.map((r) => r.id))
    }
    await s.close()
    expect(ids).toEqual(['B', 'Z', 'a', 'b', 'é'])
    expect(ids).toEqual([...ids].sort())

    const log = createPostgresDeletionLog(db)
    for (const id of ['b', 'é', 'B', 'a', 'Z']) await log.append(record('w1', id))
    const page = await log.list('w1', { limit: 3 })
    const rest = await log.list('w1', { limit: 3, cursor: page.next })
    expect([...page.items, ...rest.items].map((r) => r.id)).toEqual(['é', 'b', 'a', 'Z', 'B'])
  })

  it('refuses one of two instances appending the same record id at once, typed', async () => {
    const logs = [createPostgresDeletionLog(db), createPostgresDeletionLog((await instance()).db)]
    const outcomes = await Promise.all(
      logs.map((log, i) => codeOf(log.append({ ...record('w1', 'r1'), hint: `h${i}` }))),
    )
    // codeOf names a fulfilled promise "not a CardfileError: null".
    expect(outcomes.filter((o) => o === 'invalid-value')).toHaveLength(1)
    expect((await logs[0]!.list('w1', { limit: 10 })).items).toHaveLength(1)
  })

  it('keeps exactly one answer when instances record the same key at once', async () => {
    const logs = [db, (await instance()).db, (await instance()).db].map(createPostgresInboundLog)
    await Promise.all(logs.map((log, i) => log.record('w1', 'k1', answer(`c${i}`), i)))
    const found = await logs[0]!.find('w1', 'k1')
    expect(['c0', 'c1', 'c2']).toContain(found?.contactId)
    for (const log of logs) expect(await log.find('w1', 'k1')).toEqual(found)
    const rows = await db.rows('SELECT key FROM inbound_messages')
    expect(rows).toHaveLength(1)
  })

  it('leaves the deletion log untouched by erasure and refuses changes to it', async () => {
    const log = createPostgresDeletionLog(db)
    await log.append(record('w1', 'r1'))
    await log.eraseContactRows('w1', 'r1')
    expect((await log.list('w1', { limit: 10 })).items.map((r) => r.id)).toEqual(['r1'])
    await expect(db.run("UPDATE deleted_contacts SET hint = 'x'")).rejects.toThrow(/append-only/)
  })
})
