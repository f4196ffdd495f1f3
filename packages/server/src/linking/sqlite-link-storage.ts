import type { Database } from 'better-sqlite3'
import { checkLimit, decodeCursor, newestPage } from '../storage/cursor'
import type { ContactLinkRecord, LinkAuthor, LinkStorage } from './link-store'
import { checkRelinkChunk } from './link-store'
import type { MatchChange } from './auto-links'
import { createSqliteAutoLinks } from './sqlite-auto-links'
import { createSqliteEventStore } from '../events/sqlite-event-store'
import { toLinkLogEntry, toLinkRecord } from './link-rows'
import type { ChunkSqlRow, LinkSqlRow, LogSqlRow } from './link-rows'
import { parseContactValues, toContactIndexRow } from '../storage/contact-sql-row'
import type { ContactSqlRow } from '../storage/contact-sql-row'

/**
 * The SQLite side of {@link LinkStorage}, on the store's own connection (tables of schema
 * migration 2). Every call is one short synchronous transaction, so it interleaves with group
 * commits without ever seeing half of one. A re-link chunk writes the `contact.linked` events
 * of the automatic links it makes and breaks in its own transaction.
 *
 * @example
 * const links = createSqliteLinkStorage(db, ensureOpen)
 * await links.putLink({ workspace: 'demo', a: 'c1', b: 'c2', kind: 'link', subject: 'c2', by, at })
 */
export function createSqliteLinkStorage(db: Database, ensureOpen: () => void): LinkStorage {
  const autoLinks = createSqliteAutoLinks(db)
  const events = createSqliteEventStore(db)
  const sql = {
    upsert: db.prepare<[LinkSqlRow]>(
      `INSERT INTO contact_links (workspace, a, b, kind, subject, by_role, by_user, at)
       VALUES (@workspace, @a, @b, @kind, @subject, @by_role, @by_user, @at)
       ON CONFLICT (workspace, a, b) DO UPDATE SET kind = excluded.kind,
         subject = excluded.subject, by_role = excluded.by_role, by_user = excluded.by_user,
         at = excluded.at`,
    ),
    log: db.prepare<[Omit<LogSqlRow, 'seq'>]>(
      `INSERT INTO contact_link_log (workspace, a, b, action, subject, by_role, by_user, at)
       VALUES (@workspace, @a, @b, @action, @subject, @by_role, @by_user, @at)`,
    ),
    get: db.prepare<[string, string, string], LinkSqlRow>(
      'SELECT * FROM contact_links WHERE workspace = ? AND a = ? AND b = ?',
    ),
    remove: db.prepare<[string, string, string]>(
      'DELETE FROM contact_links WHERE workspace = ? AND a = ? AND b = ?',
    ),
    linksOf: db.prepare<[string, string, string, string], LinkSqlRow>(
      `SELECT * FROM contact_links WHERE workspace = ? AND a IN (SELECT value FROM json_each(?))
       UNION
       SELECT * FROM contact_links WHERE workspace = ? AND b IN (SELECT value FROM json_each(?))`,
    ),
    logOf: db.prepare<[string, string, number, string, string, number, number], LogSqlRow>(
      `SELECT * FROM (
         SELECT * FROM contact_link_log WHERE workspace = ? AND a = ? AND seq < ?
         UNION ALL
         SELECT * FROM contact_link_log WHERE workspace = ? AND b = ? AND a != b AND seq < ?
       ) ORDER BY seq DESC LIMIT ?`,
    ),
    byIds: db.prepare<[string, string], ContactSqlRow>(
      'SELECT * FROM contacts WHERE workspace = ? AND id IN (SELECT value FROM json_each(?))',
    ),
    count: db.prepare<[string], { n: number }>(
      'SELECT count(*) AS n FROM contacts WHERE workspace = ?',
    ),
    chunk: db.prepare<[string, string, number], ChunkSqlRow>(
      `SELECT id, match_value, values_json FROM contacts WHERE workspace = ? AND id > ?
       ORDER BY id LIMIT ?`,
    ),
    setMatch: db.prepare<[string | null, string, string]>(
      'UPDATE contacts SET match_value = ? WHERE workspace = ? AND id = ?',
    ),
  }

  const put = db.transaction((r: ContactLinkRecord) => {
    const row = {
      workspace: r.workspace,
      a: r.a,
      b: r.b,
      subject: r.subject,
      by_role: r.by.role,
      by_user: r.by.userId,
      at: r.at,
    }
    sql.upsert.run({ ...row, kind: r.kind })
    sql.log.run({ ...row, action: r.kind })
  })

  const remove = db.transaction(
    (workspace: string, a: string, b: string, by: LinkAuthor, at: number) => {
      const existing = sql.get.get(workspace, a, b)
      if (existing === undefined) return null
      sql.remove.run(workspace, a, b)
      sql.log.run({
        workspace,
        a,
        b,
        action: 'revert',
        subject: existing.subject,
        by_role: by.role,
        by_user: by.userId,
        at,
      })
      return toLinkRecord(existing)
    },
  )

  const recompute = db.transaction(
    (
      workspace: string,
      compute: (values: Readonly<Record<string, string>>) => string | null,
      after: string | null,
      limit: number,
    ) => {
      const rows = sql.chunk.all(workspace, after ?? '', limit)
      const changes: MatchChange[] = []
      for (const r of rows) {
        const next = compute(parseContactValues(r.values_json))
        if (next !== r.match_value) changes.push({ id: r.id, before: r.match_value, after: next })
      }
      const tracker = autoLinks.track(workspace, changes)
      for (const c of changes) sql.setMatch.run(c.after, workspace, c.id)
      const linked = tracker.finish(null, Date.now())
      if (linked.length > 0) events.insertNow(linked)
      const changed = changes.length
      return {
        processed: rows.length,
        changed,
        last: rows.length < limit ? null : (rows.at(-1)?.id ?? null),
      }
    },
  )

  return {
    async putLink(record) {
      ensureOpen()
      put.immediate(record)
    },
    async removeLink(workspace, a, b, by, at) {
      ensureOpen()
      return remove.immediate(workspace, a, b, by, at)
    },
    async linksOf(workspace, contactIds) {
      ensureOpen()
      if (contactIds.length === 0) return []
      const ids = JSON.stringify(contactIds)
      return sql.linksOf.all(workspace, ids, workspace, ids).map(toLinkRecord)
    },
    async linkLog(workspace, contactId, q) {
      ensureOpen()
      const limit = checkLimit(q.limit)
      const after = decodeCursor(q.cursor, 'newest')
      const before = after === null ? Number.MAX_SAFE_INTEGER : after.t
      const rows = sql.logOf.all(
        workspace,
        contactId,
        before,
        workspace,
        contactId,
        before,
        limit + 1,
      )
      return newestPage(rows.map(toLinkLogEntry), limit, (e) => ({ t: e.seq, i: '' }))
    },
    async contactsByIds(workspace, ids) {
      ensureOpen()
      if (ids.length === 0) return []
      return sql.byIds.all(workspace, JSON.stringify(ids)).map(toContactIndexRow)
    },
    async countContacts(workspace) {
      ensureOpen()
      return sql.count.get(workspace)?.n ?? 0
    },
    async recomputeMatchValues(workspace, compute, after, limit) {
      checkRelinkChunk(limit)
      ensureOpen()
      return recompute.immediate(workspace, compute, after, limit)
    },
  }
}
