import { parseContactValues, toContactIndexRow } from '../storage/contact-sql-row'
import type { ContactSqlRow } from '../storage/contact-sql-row'
import { checkLimit, decodeCursor, newestPage } from '../storage/cursor'
import type { PgDatabase } from '../storage/postgres-database'
import { checkRelinkChunk } from './link-store'
import type { LinkStorage } from './link-store'
import { toLinkLogEntry, toLinkRecord } from './link-rows'
import type { ChunkSqlRow, LinkSqlRow, LogSqlRow } from './link-rows'
import type { MatchChange } from './auto-links'
import { trackPostgresMatchChanges } from './postgres-auto-links'
import { createPostgresEventStore } from '../events/postgres-event-store'

const LINK_COLUMNS = 'workspace, a, b, kind, subject, by_role, by_user, at'
const LOG_COLUMNS = 'seq, workspace, a, b, action, subject, by_role, by_user, at'

// The record and its log entry in one statement: atomic without a transaction, and the
// upsert takes the pair's row lock before the log entry gets its seq, so concurrent writers
// of one pair log in the order their records replaced each other.
const PUT_LINK = `
  WITH upserted AS (
    INSERT INTO contact_links (${LINK_COLUMNS})
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
    ON CONFLICT (workspace, a, b) DO UPDATE SET kind = excluded.kind,
      subject = excluded.subject, by_role = excluded.by_role, by_user = excluded.by_user,
      at = excluded.at
    RETURNING workspace, a, b, kind, subject, by_role, by_user, at
  )
  INSERT INTO contact_link_log (workspace, a, b, action, subject, by_role, by_user, at)
  SELECT workspace, a, b, kind, subject, by_role, by_user, at FROM upserted`

// A revert is logged only when a record was there to delete: of two concurrent removals the
// second finds the row gone once the first commits, and logs nothing.
const REMOVE_LINK = `
  WITH removed AS (
    DELETE FROM contact_links WHERE workspace = $1 AND a = $2 AND b = $3
    RETURNING ${LINK_COLUMNS}
  ), logged AS (
    INSERT INTO contact_link_log (workspace, a, b, action, subject, by_role, by_user, at)
    SELECT workspace, a, b, 'revert', subject, $4::text, $5::text, $6::bigint FROM removed
  )
  SELECT ${LINK_COLUMNS} FROM removed`

// The two sides separately, each newest first and limited, so each reads its own index
// backwards and stops early; a pair of a contact with itself is listed once.
const LINK_LOG = `
  (SELECT ${LOG_COLUMNS} FROM contact_link_log
    WHERE workspace = $1 AND a = $2 AND seq < $3 ORDER BY seq DESC LIMIT $4)
  UNION ALL
  (SELECT ${LOG_COLUMNS} FROM contact_link_log
    WHERE workspace = $1 AND b = $2 AND a <> b AND seq < $3 ORDER BY seq DESC LIMIT $4)
  ORDER BY seq DESC LIMIT $4`

// Locks the chunk's rows (keyset on the primary key) so that an index write of one of them
// waits for this short transaction instead of being overwritten by a value computed from its
// old values. The row lock is applied below the LIMIT: a row deleted meanwhile is skipped
// and the next one taken, so a full chunk still means "more may follow".
const READ_CHUNK = `
  SELECT id, match_value, values_json FROM contacts
  WHERE workspace = $1 AND id > $2
  ORDER BY id LIMIT $3
  FOR NO KEY UPDATE`

const WRITE_CHUNK = `
  UPDATE contacts AS c SET match_value = u.match_value
  FROM unnest($2::text[], $3::text[]) AS u(id, match_value)
  WHERE c.workspace = $1 AND c.id = u.id`

/**
 * A log cursor's seq bound as a BIGINT parameter. Log seqs are positive integers, so
 * `seq < t` is `seq < ceil(t)`, and any bound beyond the range of seqs selects the same rows
 * as the range's end: a cursor SQLite accepts reads the same page here instead of failing
 * the cast.
 */
const seqBound = (t: number): number => Math.min(Number.MAX_SAFE_INTEGER, Math.max(0, Math.ceil(t)))

/**
 * The PostgreSQL side of {@link LinkStorage}, over the tables `contact_links`,
 * `contact_link_log` and `contacts`, with the same answers as the SQLite one. Link writes are
 * single statements; a re-link chunk is one short transaction that locks only the rows it
 * reads and writes only those whose matching value changed, with the `contact.linked` events
 * of the automatic links it makes and breaks. Safe with several server
 * processes on one database.
 *
 * @example
 * const links = createPostgresLinkStorage(db)
 * await links.putLink({ workspace: 'demo', a: 'c1', b: 'c2', kind: 'link', subject: 'c2', by, at })
 */
export function createPostgresLinkStorage(db: PgDatabase): LinkStorage {
  const events = createPostgresEventStore(db)
  return {
    async putLink(r) {
      await db.run(PUT_LINK, [
        r.workspace,
        r.a,
        r.b,
        r.kind,
        r.subject,
        r.by.role,
        r.by.userId,
        r.at,
      ])
    },

    async removeLink(workspace, a, b, by, at) {
      const removed = await db.one<LinkSqlRow>(REMOVE_LINK, [
        workspace,
        a,
        b,
        by.role,
        by.userId,
        at,
      ])
      return removed === undefined ? null : toLinkRecord(removed)
    },

    async linksOf(workspace, contactIds) {
      if (contactIds.length === 0) return []
      const rows = await db.rows<LinkSqlRow>(
        `SELECT ${LINK_COLUMNS} FROM contact_links
         WHERE workspace = $1 AND (a = ANY($2::text[]) OR b = ANY($2::text[]))
         ORDER BY a, b`,
        [workspace, contactIds],
      )
      return rows.map(toLinkRecord)
    },

    async linkLog(workspace, contactId, q) {
      const limit = checkLimit(q.limit)
      const after = decodeCursor(q.cursor, 'newest')
      const before = after === null ? Number.MAX_SAFE_INTEGER : seqBound(after.t)
      const rows = await db.rows<LogSqlRow>(LINK_LOG, [workspace, contactId, before, limit + 1])
      return newestPage(rows.map(toLinkLogEntry), limit, (e) => ({ t: e.seq, i: '' }))
    },

    async contactsByIds(workspace, ids) {
      if (ids.length === 0) return []
      const rows = await db.rows<ContactSqlRow>(
        'SELECT * FROM contacts WHERE workspace = $1 AND id = ANY($2::text[])',
        [workspace, ids],
      )
      return rows.map(toContactIndexRow)
    },

    async countContacts(workspace) {
      const row = await db.one<{ n: number }>(
        'SELECT count(*) AS n FROM contacts WHERE workspace = $1',
        [workspace],
      )
      return row?.n ?? 0
    },

    async recomputeMatchValues(workspace, compute, after, limit) {
      checkRelinkChunk(limit)
      return db.transaction(async (tx) => {
        const rows = await tx.rows<ChunkSqlRow>(READ_CHUNK, [workspace, after ?? '', limit])
        const changes: MatchChange[] = []
        for (const r of rows) {
          const next = compute(parseContactValues(r.values_json))
          if (next !== r.match_value) changes.push({ id: r.id, before: r.match_value, after: next })
        }
        const ids = changes.map((c) => c.id)
        const tracker = await trackPostgresMatchChanges(tx, workspace, changes)
        if (ids.length > 0) {
          await tx.run(WRITE_CHUNK, [workspace, ids, changes.map((c) => c.after)])
        }
        const linked = await tracker.finish(null, Date.now())
        if (linked.length > 0) await events.insertIn(tx, linked)
        return {
          processed: rows.length,
          changed: ids.length,
          last: rows.length < limit ? null : (rows.at(-1)?.id ?? null),
        }
      })
    },
  }
}
