import type { Database } from 'better-sqlite3'
import type { CrmStorage, PendingWriteBack } from './crm-storage'
import { toCrmConfig, toLookupRecord, toPendingWriteBack } from './crm-rows'
import type { ConfigRow, LookupRow, PendingRow } from './crm-rows'

/**
 * The CRM tables of the SQLite store (migration 4): configuration, pending write-backs,
 * sequence numbers and lookup outcomes, in the same file as the documents (and the jobs that
 * carry the deliveries), so a pending write-back is as durable as an acknowledged edit.
 *
 * @example
 * const crm = createSqliteCrmStorage(db, ensureOpen)
 */
export function createSqliteCrmStorage(db: Database, ensureOpen: () => void): CrmStorage {
  const sql = {
    getConfig: db.prepare<[string], ConfigRow>('SELECT * FROM crm_config WHERE workspace = ?'),
    putConfig: db.prepare<[ConfigRow]>(
      `INSERT INTO crm_config (workspace, enabled, lookup_url, write_back_url, notification_url,
         secret, updated_at)
       VALUES (@workspace, @enabled, @lookup_url, @write_back_url, @notification_url, @secret,
         @updated_at)
       ON CONFLICT (workspace) DO UPDATE SET enabled = excluded.enabled,
         lookup_url = excluded.lookup_url, write_back_url = excluded.write_back_url,
         notification_url = excluded.notification_url, secret = excluded.secret,
         updated_at = excluded.updated_at`,
    ),
    deletePending: db.prepare<[string, string, string]>(
      'DELETE FROM crm_pending WHERE workspace = ? AND contact_id = ? AND attribute_id = ?',
    ),
    nextSequence: db.prepare<[string, string], { n: number }>(
      `INSERT INTO crm_sequences (workspace, contact_id, n) VALUES (?, ?, 1)
       ON CONFLICT (workspace, contact_id) DO UPDATE SET n = n + 1 RETURNING n`,
    ),
    putPending: db.prepare<[PendingRow]>(
      `INSERT INTO crm_pending (workspace, contact_id, attribute_id, by_role, by_user, at)
       VALUES (@workspace, @contact_id, @attribute_id, @by_role, @by_user, @at)
       ON CONFLICT (workspace, contact_id, attribute_id) DO UPDATE SET by_role = excluded.by_role,
         by_user = excluded.by_user, at = excluded.at`,
    ),
    listPending: db.prepare<[string, string], PendingRow>(
      'SELECT * FROM crm_pending WHERE workspace = ? AND contact_id = ? ORDER BY attribute_id',
    ),
    putLookup: db.prepare<[LookupRow]>(
      `INSERT INTO crm_lookups (workspace, contact_id, at, outcome, reason)
       VALUES (@workspace, @contact_id, @at, @outcome, @reason)
       ON CONFLICT (workspace, contact_id) DO UPDATE SET at = excluded.at,
         outcome = excluded.outcome, reason = excluded.reason`,
    ),
    getLookup: db.prepare<[string, string], LookupRow>(
      'SELECT * FROM crm_lookups WHERE workspace = ? AND contact_id = ?',
    ),
    forgetPending: db.prepare<[string, string]>(
      'DELETE FROM crm_pending WHERE workspace = ? AND contact_id = ?',
    ),
    forgetLookup: db.prepare<[string, string]>(
      'DELETE FROM crm_lookups WHERE workspace = ? AND contact_id = ?',
    ),
    forgetSequence: db.prepare<[string, string]>(
      'DELETE FROM crm_sequences WHERE workspace = ? AND contact_id = ?',
    ),
  }

  const putPending = db.transaction((rows: readonly PendingWriteBack[]) => {
    for (const r of rows) {
      sql.putPending.run({
        workspace: r.workspace,
        contact_id: r.contactId,
        attribute_id: r.attributeId,
        by_role: r.by.role,
        by_user: r.by.userId,
        at: r.by.at,
      })
    }
  })
  const clearPending = db.transaction(
    (workspace: string, contactId: string, attributeIds: readonly string[]) => {
      for (const id of attributeIds) sql.deletePending.run(workspace, contactId, id)
    },
  )
  const forget = db.transaction((workspace: string, contactId: string) => {
    sql.forgetPending.run(workspace, contactId)
    sql.forgetLookup.run(workspace, contactId)
    sql.forgetSequence.run(workspace, contactId)
  })

  return {
    async getConfig(workspace) {
      ensureOpen()
      const r = sql.getConfig.get(workspace)
      return r === undefined ? null : toCrmConfig(r)
    },
    async putConfig(c) {
      ensureOpen()
      sql.putConfig.run({
        workspace: c.workspace,
        enabled: c.enabled ? 1 : 0,
        lookup_url: c.lookupUrl,
        write_back_url: c.writeBackUrl,
        notification_url: c.notificationUrl,
        secret: c.secret,
        updated_at: c.updatedAt,
      })
    },
    async nextSequence(workspace, contactId) {
      ensureOpen()
      return sql.nextSequence.get(workspace, contactId)!.n
    },
    async putPending(rows) {
      ensureOpen()
      putPending(rows)
    },
    async listPending(workspace, contactId) {
      ensureOpen()
      return sql.listPending.all(workspace, contactId).map(toPendingWriteBack)
    },
    async clearPending(workspace, contactId, attributeIds) {
      ensureOpen()
      clearPending(workspace, contactId, attributeIds)
    },
    async putLookup(r) {
      ensureOpen()
      sql.putLookup.run({
        workspace: r.workspace,
        contact_id: r.contactId,
        at: r.at,
        outcome: r.outcome,
        reason: r.reason,
      })
    },
    async getLookup(workspace, contactId) {
      ensureOpen()
      const r = sql.getLookup.get(workspace, contactId)
      return r === undefined ? null : toLookupRecord(r)
    },
    async forgetContact(workspace, contactId) {
      ensureOpen()
      forget(workspace, contactId)
    },
  }
}
