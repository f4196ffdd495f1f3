import type { Database } from 'better-sqlite3'
import type { InboundResult } from './inbound-log'
import type { InboundLog } from './inbound-log'

interface InboundSqlRow {
  contact_id: string
  conversation_id: string
  created_contact: number
  created_conversation: number
}

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
      if (row === undefined) return null
      const result: InboundResult = {
        contactId: row.contact_id,
        conversationId: row.conversation_id,
        createdContact: row.created_contact === 1,
        createdConversation: row.created_conversation === 1,
      }
      return result
    },
    async record(workspace, key, result, at) {
      const inserted = sql.record.run(
        workspace,
        key,
        result.contactId,
        result.conversationId,
        result.createdContact ? 1 : 0,
        result.createdConversation ? 1 : 0,
        at,
      ).changes
      return inserted === 1 ? result : ((await this.find(workspace, key)) ?? result)
    },
    async forgetContact(workspace, contactId) {
      sql.forget.run(workspace, contactId)
    },
  }
}
