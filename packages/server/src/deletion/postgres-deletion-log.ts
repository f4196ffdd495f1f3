import { checkLimit, decodeCursor, newestPage } from '../storage/cursor'
import { codeOf } from '../storage/postgres-database'
import type { PgDatabase } from '../storage/postgres-database'
import { toDeletionRecord } from './deletion-row'
import type { DeletionSqlRow } from './deletion-row'
import { duplicateRecord } from './duplicate-record'
import type { DeletionLog } from './deletion-log'

const UNIQUE_VIOLATION = '23505'

// Ids compare byte-wise whatever the database's collation, so pages come in the order (and
// cursors mean what) they do on the other engines. The plain `deleted_at <=` repeats what the
// OR implies so the index scan starts at the cursor instead of filtering from the newest row.
const FIRST_PAGE = `SELECT * FROM deleted_contacts WHERE workspace = $1
  ORDER BY deleted_at DESC, id COLLATE "C" DESC LIMIT $2`
const LATER_PAGE = `SELECT * FROM deleted_contacts WHERE workspace = $1 AND deleted_at <= $2
    AND (deleted_at < $2 OR (deleted_at = $2 AND id COLLATE "C" < $3))
  ORDER BY deleted_at DESC, id COLLATE "C" DESC LIMIT $4`

/**
 * The deleted-contacts log on PostgreSQL (table `deleted_contacts`, which refuses UPDATE,
 * DELETE and TRUNCATE by trigger). A record whose id the workspace's log already holds is
 * refused with a typed error, never a driver error.
 *
 * @example
 * const log = createPostgresDeletionLog(db)
 * await log.append({ workspace: 'demo', id: 'r1', hint: '@an***a', channel: 'x', deletedAt, deletedBy })
 */
export function createPostgresDeletionLog(db: PgDatabase): DeletionLog {
  return {
    async append(record) {
      try {
        await db.run(
          `INSERT INTO deleted_contacts (workspace, id, hint, channel, deleted_at,
             deleted_by_user, deleted_by_name)
           VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [
            record.workspace,
            record.id,
            record.hint,
            record.channel,
            record.deletedAt,
            record.deletedBy.userId,
            record.deletedBy.name,
          ],
        )
      } catch (error) {
        if (codeOf(error) === UNIQUE_VIOLATION) throw duplicateRecord(record)
        throw error
      }
    },

    async list(workspace, query) {
      const limit = checkLimit(query.limit)
      const after = decodeCursor(query.cursor, 'newest')
      const rows =
        after === null
          ? await db.rows<DeletionSqlRow>(FIRST_PAGE, [workspace, limit + 1])
          : await db.rows<DeletionSqlRow>(LATER_PAGE, [workspace, after.t, after.i, limit + 1])
      return newestPage(rows.map(toDeletionRecord), limit, (r) => ({ t: r.deletedAt, i: r.id }))
    },

    async eraseContactRows(workspace, contactId) {
      // One transaction: the links and the log that explains them go together or not at all.
      await db.transaction(async (tx) => {
        await tx.run('DELETE FROM contact_links WHERE workspace = $1 AND (a = $2 OR b = $2)', [
          workspace,
          contactId,
        ])
        await tx.run(
          `DELETE FROM contact_link_log
           WHERE workspace = $1 AND (a = $2 OR b = $2 OR subject = $2)`,
          [workspace, contactId],
        )
      })
    },
  }
}
