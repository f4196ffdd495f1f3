import type { PgDatabase, PgSession } from '../storage/postgres-database'
import { historyColumns, historyCursor, historyPage, toHistoryEntry } from './history-rows'
import type { ValueHistorySqlRow } from './history-rows'
import type { ValueChange, ValueHistoryStore } from './value-history'

/** The PostgreSQL history, with the insert the group commit runs in its transaction. */
export interface PostgresValueHistory extends ValueHistoryStore {
  /** Inserts changes in `tx` (the group commit that holds their updates), in order. */
  insertIn(tx: PgSession, changes: readonly ValueChange[]): Promise<void>
}

/**
 * Value history on PostgreSQL (table `value_history`, migration 3).
 *
 * @example
 * const history = createPostgresValueHistory(db)
 * await history.list('demo', 'c1', { attributeId: 'plan', limit: 20, cursor: null })
 */
export function createPostgresValueHistory(db: PgDatabase): PostgresValueHistory {
  return {
    async insertIn(tx, changes) {
      if (changes.length === 0) return
      const rows = changes.map(historyColumns)
      // One statement for the group; WITH ORDINALITY keeps the ids in commit order.
      await tx.run(
        `INSERT INTO value_history (workspace, contact_id, attribute_id, previous_json,
           value_json, by_role, by_user, at)
         SELECT w, c, a, p, v, r, u, t FROM unnest($1::text[], $2::text[], $3::text[],
           $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[])
           WITH ORDINALITY AS x(w, c, a, p, v, r, u, t, n)
         ORDER BY n`,
        [
          rows.map((r) => r.workspace),
          rows.map((r) => r.contact_id),
          rows.map((r) => r.attribute_id),
          rows.map((r) => r.previous_json),
          rows.map((r) => r.value_json),
          rows.map((r) => r.by_role),
          rows.map((r) => r.by_user),
          rows.map((r) => r.at),
        ],
      )
    },

    async list(workspace, contactId, query) {
      const before = historyCursor(query.cursor, query.limit) ?? Number.MAX_SAFE_INTEGER
      const rows =
        query.attributeId === null
          ? await db.rows<ValueHistorySqlRow>(
              `SELECT * FROM value_history WHERE workspace = $1 AND contact_id = $2 AND id < $3
               ORDER BY id DESC LIMIT $4`,
              [workspace, contactId, before, query.limit + 1],
            )
          : await db.rows<ValueHistorySqlRow>(
              `SELECT * FROM value_history WHERE workspace = $1 AND contact_id = $2
                 AND attribute_id = $3 AND id < $4
               ORDER BY id DESC LIMIT $5`,
              [workspace, contactId, query.attributeId, before, query.limit + 1],
            )
      return historyPage(rows.map(toHistoryEntry), query.limit)
    },

    async eraseContact(workspace, contactId) {
      await db.run('DELETE FROM value_history WHERE workspace = $1 AND contact_id = $2', [
        workspace,
        contactId,
      ])
    },
  }
}
