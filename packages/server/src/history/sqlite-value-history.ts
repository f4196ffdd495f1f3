import type Database from 'better-sqlite3'
import { historyColumns, historyCursor, historyPage, toHistoryEntry } from './history-rows'
import type { ValueHistorySqlRow } from './history-rows'
import type { ValueChange, ValueHistoryStore } from './value-history'

/** The SQLite history, with the insert the document store runs inside its commit. */
export interface SqliteValueHistory extends ValueHistoryStore {
  /** Inserts changes in the caller's transaction (the append that holds them). */
  insertNow(changes: readonly ValueChange[]): void
}

/**
 * Value history on the SQLite store's connection (table `value_history`, migration 11).
 *
 * @example
 * const history = createSqliteValueHistory(db)
 * await history.list('demo', 'c1', { attributeId: null, limit: 50, cursor: null })
 */
export function createSqliteValueHistory(db: Database.Database): SqliteValueHistory {
  const insert = db.prepare<[ReturnType<typeof historyColumns>]>(
    `INSERT INTO value_history (workspace, contact_id, attribute_id, previous_json, value_json,
       by_role, by_user, at)
     VALUES (@workspace, @contact_id, @attribute_id, @previous_json, @value_json, @by_role,
       @by_user, @at)`,
  )
  // The id bound is a number far above any id, so one statement serves the first page too.
  const ofContact = db.prepare<[string, string, number, number], ValueHistorySqlRow>(
    `SELECT * FROM value_history WHERE workspace = ? AND contact_id = ? AND id < ?
     ORDER BY id DESC LIMIT ?`,
  )
  const ofAttribute = db.prepare<[string, string, string, number, number], ValueHistorySqlRow>(
    `SELECT * FROM value_history WHERE workspace = ? AND contact_id = ? AND attribute_id = ?
       AND id < ?
     ORDER BY id DESC LIMIT ?`,
  )
  const erase = db.prepare<[string, string]>(
    'DELETE FROM value_history WHERE workspace = ? AND contact_id = ?',
  )
  return {
    insertNow(changes) {
      for (const change of changes) insert.run(historyColumns(change))
    },

    async list(workspace, contactId, query) {
      const before = historyCursor(query.cursor, query.limit) ?? Number.MAX_SAFE_INTEGER
      const rows =
        query.attributeId === null
          ? ofContact.all(workspace, contactId, before, query.limit + 1)
          : ofAttribute.all(workspace, contactId, query.attributeId, before, query.limit + 1)
      return historyPage(rows.map(toHistoryEntry), query.limit)
    },

    async eraseContact(workspace, contactId) {
      erase.run(workspace, contactId)
    },
  }
}
