import type { PgDatabase } from '../storage/postgres-database'
import type { InboundLog } from './inbound-log'
import { inboundRowValues, toInboundResult } from './inbound-row'
import type { InboundSqlRow } from './inbound-row'

/**
 * The inbound log on PostgreSQL (table `inbound_messages`). Recording is one
 * `INSERT … ON CONFLICT DO NOTHING`: when several instances answer the same message at once,
 * the first answer committed stays and the others are ignored, with no window between a check
 * and an insert.
 *
 * @example
 * const log = createPostgresInboundLog(db)
 * await log.record('demo', key, result, Date.now())
 */
export function createPostgresInboundLog(db: PgDatabase): InboundLog {
  return {
    async find(workspace, key) {
      const row = await db.one<InboundSqlRow>(
        `SELECT contact_id, conversation_id, created_contact, created_conversation
         FROM inbound_messages WHERE workspace = $1 AND key = $2`,
        [workspace, key],
      )
      return row === undefined ? null : toInboundResult(row)
    },

    async record(workspace, key, result, at) {
      const inserted = await db.run(
        `INSERT INTO inbound_messages (workspace, key, contact_id, conversation_id,
           created_contact, created_conversation, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (workspace, key) DO NOTHING`,
        [workspace, key, ...inboundRowValues(result), at],
      )
      // Not inserted: another answer was there first (it committed, so this statement saw it).
      return inserted === 1 ? result : ((await this.find(workspace, key)) ?? result)
    },

    async forgetContact(workspace, contactId) {
      await db.run('DELETE FROM inbound_messages WHERE workspace = $1 AND contact_id = $2', [
        workspace,
        contactId,
      ])
    },
  }
}
