import Database from 'better-sqlite3'
import { checkLimit, decodeCursor, newestPage } from '../storage/cursor'
import type { DeletionLog } from './deletion-log'
import { toDeletionRecord } from './deletion-row'
import type { DeletionSqlRow } from './deletion-row'
import { duplicateRecord } from './duplicate-record'

const tableExists = (db: Database.Database, name: string): boolean =>
  db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !==
  undefined

/**
 * The deleted-contacts log on the SQLite store's connection (table `deleted_contacts`, migration
 * 3). Writes are single statements: SQLite commits each on its own, durably.
 *
 * @example
 * const log = createSqliteDeletionLog(db)
 * await log.append({ workspace: 'demo', id: 'r1', hint: '@an***a', channel: 'x', deletedAt, deletedBy })
 */
export function createSqliteDeletionLog(db: Database.Database): DeletionLog {
  const insert = db.prepare<[DeletionSqlRow]>(
    `INSERT INTO deleted_contacts (workspace, id, hint, channel, deleted_at, deleted_by_user,
       deleted_by_name)
     VALUES (@workspace, @id, @hint, @channel, @deleted_at, @deleted_by_user, @deleted_by_name)`,
  )
  const firstPage = db.prepare<[string, number], DeletionSqlRow>(
    `SELECT * FROM deleted_contacts WHERE workspace = ?
     ORDER BY deleted_at DESC, id DESC LIMIT ?`,
  )
  const laterPage = db.prepare<[string, number, number, string, number], DeletionSqlRow>(
    `SELECT * FROM deleted_contacts WHERE workspace = ?
       AND (deleted_at < ? OR (deleted_at = ? AND id < ?))
     ORDER BY deleted_at DESC, id DESC LIMIT ?`,
  )
  // The links tables belong to the linking feature (migration 2); look them up once so that a
  // store without them still erases everything else.
  const hasLinks = tableExists(db, 'contact_links')
  const hasLinkLog = tableExists(db, 'contact_link_log')
  const eraseLinks = hasLinks
    ? db.prepare<[string, string, string]>(
        'DELETE FROM contact_links WHERE workspace = ? AND (a = ? OR b = ?)',
      )
    : null
  const eraseLinkLog = hasLinkLog
    ? db.prepare<[string, string, string, string]>(
        'DELETE FROM contact_link_log WHERE workspace = ? AND (a = ? OR b = ? OR subject = ?)',
      )
    : null
  const eraseRows = db.transaction((workspace: string, contactId: string) => {
    eraseLinks?.run(workspace, contactId, contactId)
    eraseLinkLog?.run(workspace, contactId, contactId, contactId)
  })

  return {
    async append(record) {
      try {
        insert.run({
          workspace: record.workspace,
          id: record.id,
          hint: record.hint,
          channel: record.channel,
          deleted_at: record.deletedAt,
          deleted_by_user: record.deletedBy.userId,
          deleted_by_name: record.deletedBy.name,
        })
      } catch (error) {
        if (
          error instanceof Database.SqliteError &&
          error.code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
        ) {
          throw duplicateRecord(record)
        }
        throw error
      }
    },

    async list(workspace, query) {
      const limit = checkLimit(query.limit)
      const after = decodeCursor(query.cursor, 'newest')
      const rows = (
        after === null
          ? firstPage.all(workspace, limit + 1)
          : laterPage.all(workspace, after.t, after.t, after.i, limit + 1)
      ).map(toDeletionRecord)
      return newestPage(rows, limit, (r) => ({ t: r.deletedAt, i: r.id }))
    },

    async eraseContactRows(workspace, contactId) {
      eraseRows.immediate(workspace, contactId)
    },
  }
}
