import type { Database } from 'better-sqlite3'
import type { InboundLog } from './inbound-log'
import { inboundRowValues, toInboundResult } from './inbound-row'
import type { InboundSqlRow } from './inbound-row'

/**
 * The inbound log in the storage's SQLite file (table `inbound_messages`).
 *
 * @example
 * const log = createSqliteInboundLog(db)
 */
export function createSqliteInboundLog(db: Database): InboundLog {
  const sql = {
    find: db.prepare<[string, string], InboundSqlRow>(
      `SELECT contact_id, conversation_id, created_contact, created_conversation
       FROM inbound_messages WHERE workspace = ? AND key = ?`,
    ),
    record: db.prepare<[string, string, string, string, number, number, number]>(
      `INSERT INTO inbound_messages (workspace, key, contact_id, conversation_id,
         created_contact, created_conversation, at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (workspace, key) DO NOTHING`,
    ),
    forget: db.prepare<[string, string]>(
      'DELETE FROM inbound_messages WHERE workspace = ? AND contact_id = ?',
    ),
  }
  return {
    async find(workspace, key) {
      const row = sql.find.get(workspace, key)
      return row === undefined ? null : toInboundResult(row)
    },
    async record(workspace, key, result, at) {
      const inserted = sql.record.run(workspace, key, ...inboundRowValues(result), at).changes
      return inserted === 1 ? result : ((await this.find(workspace, key)) ?? result)
    },
    async forgetContact(workspace, contactId) {
      sql.forget.run(workspace, contactId)
    },
  }
}
