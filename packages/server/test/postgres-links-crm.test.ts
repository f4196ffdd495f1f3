import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createPostgresCrmStorage } from '../src/crm/postgres-crm-storage'
import type { LinkAuthor, LinkStorage } from '../src/linking/link-store'
import { createPostgresDeletionLog } from '../src/deletion/postgres-deletion-log'
import { createPostgresLinkStorage } from '../src/linking/postgres-link-storage'
import { openPgDatabase } from '../src/storage/postgres-database'
import type { PgDatabase } from '../src/storage/postgres-database'
import { codeOf } from './contract-helpers'
import { openTestDatabase, postgresUrl } from './postgres-test-db'

const admin: LinkAuthor = { role: 'admin', userId: 'u-admin' }

const cursorOf = (value: unknown): string =>
  Buffer.from(JSON.stringify(value), 'utf8').toString('base64url')

/** Writes a contacts row directly, as the document store's index write would. */
async function insertContact(
  db: PgDatabase,
  workspace: string,
  id: string,
  values: Record<string, string>,
  matchValue: string | null = null,
): Promise<void> {
  await db.run(
    `INSERT INTO contacts (workspace, id, channel, platform_user_id, hint, vip, match_value,
       values_json, created_at, updated_at)
     VALUES ($1, $2, 'whatsapp', $3, $4, 0, $5, $6, 1000, 1000)`,
    [workspace, id, `pu-${id}`, `hint-${id}`, matchValue, JSON.stringify(values)],
  )
}

const email = (values: Readonly<Record<string, string>>): string | null =>
  values.email?.toLowerCase() ?? null

describe('PostgreSQL link and CRM storage', () => {
  let db: PgDatabase
  let links: LinkStorage
  let cleanup: () => Promise<void>
  const others: PgDatabase[] = []

  /** A second pool on the same schema: what another server process would have. */
  const otherProcess = async (schema: string): Promise<PgDatabase> => {
    const other = await openPgDatabase({ url: postgresUrl(), schema, maxConnections: 4 })
    others.push(other)
    return other
  }
  let schema: string

  beforeEach(async () => {
    ;({ db, schema, cleanup } = await openTestDatabase())
    links = createPostgresLinkStorage(db)
  })

  afterEach(async () => {
    for (const other of others.splice(0)) await other.close()
    await cleanup()
  })

  it('pages the log with cursors SQLite accepts, fractional or out of range', async () => {
    for (let i = 1; i <= 3; i++) {
      await links.putLink({
        workspace: 'w1',
        a: 'c1',
        b: `p${i}`,
        kind: 'link',
        subject: `p${i}`,
        by: admin,
        at: i,
      })
    }
    const all = await links.linkLog('w1', 'c1', { limit: 10 })
    const [s3, s2] = all.items.map((e) => e.seq)
    const page = (t: number) =>
      links.linkLog('w1', 'c1', { limit: 10, cursor: cursorOf({ o: 'newest', t, i: '' }) })

    expect((await page(s2! + 0.5)).items.map((e) => e.at)).toEqual([2, 1])
    expect((await page(1e300)).items.map((e) => e.at)).toEqual([3, 2, 1])
    expect((await page(-1e300)).items).toEqual([])
    expect((await page(s3!)).items.map((e) => e.at)).toEqual([2, 1])
  })

  it('lists a pair of a contact with itself once in its log', async () => {
    await links.putLink({
      workspace: 'w1',
      a: 'c1',
      b: 'c1',
      kind: 'unlink',
      subject: 'c1',
      by: admin,
      at: 1,
    })
    expect((await links.linkLog('w1', 'c1', { limit: 10 })).items).toHaveLength(1)
  })

  it('erases the links and log entries about a contact, keeping seqs unique afterwards', async () => {
    const put = (a: string, b: string, subject: string, at: number) =>
      links.putLink({ workspace: 'w1', a, b, kind: 'link', subject, by: admin, at })
    await put('c1', 'c2', 'c2', 1)
    await put('c2', 'c3', 'c3', 2)
    await put('c3', 'c4', 'c4', 3)
    await createPostgresDeletionLog(db).eraseContactRows('w1', 'c2')

    expect(await links.linksOf('w1', ['c1', 'c2', 'c3'])).toHaveLength(1)
    expect((await links.linkLog('w1', 'c3', { limit: 10 })).items.map((e) => e.at)).toEqual([3])
    const before = (await links.linkLog('w1', 'c3', { limit: 10 })).items[0]!.seq
    await put('c3', 'c5', 'c5', 4)
    expect((await links.linkLog('w1', 'c3', { limit: 10 })).items[0]!.seq).toBeGreaterThan(before)
  })

  it('refuses a chunk size that is not a positive integer', async () => {
    for (const limit of [0, -1, 1.5, Number.NaN]) {
      expect(await codeOf(links.recomputeMatchValues('w1', email, null, limit))).toBe('bad-request')
    }
  })

  it('reads a chunk by keyset on the primary key, not by scanning the table', async () => {
    for (let i = 0; i < 200; i++)
      await insertContact(db, 'w1', `c${String(i).padStart(3, '0')}`, {})
    await db.run('ANALYZE contacts')
    const plan = await db.rows<{ 'QUERY PLAN': string }>(
      `EXPLAIN SELECT id, match_value, values_json FROM contacts
       WHERE workspace = 'w1' AND id > 'c100' ORDER BY id LIMIT 10 FOR NO KEY UPDATE`,
    )
    const text = plan.map((r) => r['QUERY PLAN']).join('\n')
    expect(text).toMatch(/Limit[\s\S]*LockRows[\s\S]*Index Scan using contacts_pkey/)
    expect(text).not.toMatch(/Seq Scan|Sort/)
  })

  it('computes a chunk from values written concurrently, never from the values they replaced', async () => {
    await insertContact(db, 'w1', 'c1', { email: 'Old@x.org' })
    // Another process's index write is under way (not committed) when the chunk starts.
    const writer = await (await otherProcess(schema)).connect()
    try {
      await writer.query('BEGIN')
      await writer.query(
        `UPDATE contacts SET values_json = '{"email":"New@x.org"}', match_value = NULL
         WHERE workspace = 'w1' AND id = 'c1'`,
      )
      const seen: string[] = []
      const chunk = links.recomputeMatchValues(
        'w1',
        (values) => {
          seen.push(values.email ?? '?')
          return email(values)
        },
        null,
        10,
      )
      await new Promise((resolve) => setTimeout(resolve, 100))
      expect(seen).toEqual([])
      await writer.query('COMMIT')
      expect(await chunk).toEqual({ processed: 1, changed: 1, last: null })
      expect(seen).toEqual(['New@x.org'])
    } finally {
      writer.release()
    }
    const [row] = await links.contactsByIds('w1', ['c1'])
    expect(row?.matchValue).toBe('new@x.org')
  })

  it('still reads a full chunk when a locked row is deleted meanwhile', async () => {
    for (const id of ['a', 'b', 'c', 'd']) await insertContact(db, 'w1', id, { email: id })
    const client = await db.connect()
    try {
      await client.query('BEGIN')
      await client.query("DELETE FROM contacts WHERE workspace = 'w1' AND id = 'b'")
      const chunk = links.recomputeMatchValues('w1', email, null, 2)
      await new Promise((resolve) => setTimeout(resolve, 100))
      await client.query('COMMIT')
      expect(await chunk).toEqual({ processed: 2, changed: 2, last: 'c' })
    } finally {
      client.release()
    }
  })

  it('logs concurrent writes of one pair in the order their records replaced each other', async () => {
    const other = createPostgresLinkStorage(await otherProcess(schema))
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 === 0 ? links : other).putLink({
          workspace: 'w1',
          a: 'c1',
          b: 'c2',
          kind: i % 3 === 0 ? 'unlink' : 'link',
          subject: 'c2',
          by: admin,
          at: i,
        }),
      ),
    )
    const [record] = await links.linksOf('w1', ['c1'])
    const log = await links.linkLog('w1', 'c1', { limit: 100 })
    expect(log.items).toHaveLength(20)
    expect(log.items[0]?.at).toBe(record?.at)
  })

  it('logs one revert when two processes remove the same pair together', async () => {
    const other = createPostgresLinkStorage(await otherProcess(schema))
    await links.putLink({
      workspace: 'w1',
      a: 'c1',
      b: 'c2',
      kind: 'link',
      subject: 'c2',
      by: admin,
      at: 1,
    })
    const removed = await Promise.all([
      links.removeLink('w1', 'c1', 'c2', admin, 2),
      other.removeLink('w1', 'c1', 'c2', admin, 3),
    ])
    expect(removed.filter((r) => r !== null)).toHaveLength(1)
    const log = await links.linkLog('w1', 'c1', { limit: 10 })
    expect(log.items.map((e) => e.action)).toEqual(['revert', 'link'])
  })

  it('hands out distinct sequence numbers across processes', async () => {
    const crms = [
      createPostgresCrmStorage(db),
      createPostgresCrmStorage(await otherProcess(schema)),
    ]
    const numbers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => crms[i % 2]!.nextSequence('w1', 'c1')),
    )
    expect([...numbers].sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
  })

  it('stores overlapping pending batches from several processes without deadlocking', async () => {
    const crms = [
      createPostgresCrmStorage(db),
      createPostgresCrmStorage(await otherProcess(schema)),
    ]
    const attributes = ['a', 'b', 'c', 'd', 'e', 'f']
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => {
        // Each batch names the attributes in another order, one of them twice.
        const order = i % 2 === 0 ? attributes : [...attributes].reverse()
        return crms[i % 2]!.putPending(
          [...order, order[0]!].map((attributeId, n) => ({
            workspace: 'w1',
            contactId: 'c1',
            attributeId,
            by: { role: 'agent' as const, userId: `u${i}`, at: i * 100 + n },
          })),
        )
      }),
    )
    const rows = await crms[0]!.listPending('w1', 'c1')
    expect(rows.map((r) => r.attributeId)).toEqual(attributes)
  })
})
