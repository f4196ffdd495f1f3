import type { Database } from 'better-sqlite3'
import type {
  CrmConfig,
  CrmDelivery,
  CrmLookupRecord,
  CrmStorage,
  DeliveryKind,
  DeliveryState,
  PendingWriteBack,
} from './crm-storage'

interface DeliveryRow {
  id: string
  workspace: string
  contact_id: string
  seq: number
  kind: string
  body: string
  state: string
  attempts: number
  next_attempt_at: number
  last_error: string | null
  created_at: number
  updated_at: number
}

interface ConfigRow {
  workspace: string
  enabled: number
  lookup_url: string | null
  write_back_url: string | null
  notification_url: string | null
  secret: string
  updated_at: number
}

interface PendingRow {
  workspace: string
  contact_id: string
  attribute_id: string
  by_role: string
  by_user: string
  at: number
}

interface LookupRow {
  workspace: string
  contact_id: string
  at: number
  outcome: string
  reason: string | null
}

const toDelivery = (r: DeliveryRow): CrmDelivery => ({
  id: r.id,
  workspace: r.workspace,
  contactId: r.contact_id,
  seq: r.seq,
  kind: r.kind as DeliveryKind,
  body: r.body,
  state: r.state as DeliveryState,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  lastError: r.last_error,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
})

/**
 * The CRM tables of the SQLite store (migration 4): configuration, the outbox, pending
 * write-backs and lookup outcomes, in the same file as the documents, so a queued delivery is
 * as durable as an acknowledged edit.
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
    insertDelivery: db.prepare<[Omit<DeliveryRow, 'seq'>], DeliveryRow>(
      `INSERT INTO crm_deliveries (id, workspace, contact_id, kind, body, state, attempts,
         next_attempt_at, last_error, created_at, updated_at)
       VALUES (@id, @workspace, @contact_id, @kind, @body, @state, @attempts, @next_attempt_at,
         @last_error, @created_at, @updated_at)
       RETURNING *`,
    ),
    deletePending: db.prepare<[string, string, string]>(
      'DELETE FROM crm_pending WHERE workspace = ? AND contact_id = ? AND attribute_id = ?',
    ),
    dueHeads: db.prepare<[number, number], DeliveryRow>(
      `SELECT d.* FROM crm_deliveries d
       JOIN (SELECT workspace, contact_id, min(seq) AS seq FROM crm_deliveries
             WHERE state = 'pending' GROUP BY workspace, contact_id) h ON d.seq = h.seq
       WHERE d.next_attempt_at <= ? ORDER BY d.next_attempt_at, d.seq LIMIT ?`,
    ),
    nextDue: db.prepare<[], { t: number | null }>(
      "SELECT min(next_attempt_at) AS t FROM crm_deliveries WHERE state = 'pending'",
    ),
    delivered: db.prepare<[number, number, string]>(
      `UPDATE crm_deliveries SET state = 'delivered', attempts = ?, last_error = NULL,
         updated_at = ? WHERE id = ?`,
    ),
    retry: db.prepare<[number, number, string, number, string]>(
      `UPDATE crm_deliveries SET attempts = ?, next_attempt_at = ?, last_error = ?, updated_at = ?
       WHERE id = ?`,
    ),
    dead: db.prepare<[number, string, number, string]>(
      `UPDATE crm_deliveries SET state = 'dead', attempts = ?, last_error = ?, updated_at = ?
       WHERE id = ?`,
    ),
    revive: db.prepare<[number, number, string, string]>(
      `UPDATE crm_deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?,
         updated_at = ? WHERE workspace = ? AND id = ? AND state = 'dead'`,
    ),
    getDelivery: db.prepare<[string, string], DeliveryRow>(
      'SELECT * FROM crm_deliveries WHERE workspace = ? AND id = ?',
    ),
    listAll: db.prepare<[string, number], DeliveryRow>(
      'SELECT * FROM crm_deliveries WHERE workspace = ? ORDER BY seq DESC LIMIT ?',
    ),
    listState: db.prepare<[string, string, number], DeliveryRow>(
      'SELECT * FROM crm_deliveries WHERE workspace = ? AND state = ? ORDER BY seq DESC LIMIT ?',
    ),
    count: db.prepare<[string], { state: string; n: number }>(
      'SELECT state, count(*) AS n FROM crm_deliveries WHERE workspace = ? GROUP BY state',
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
    forgetDeliveries: db.prepare<[string, string]>(
      'DELETE FROM crm_deliveries WHERE workspace = ? AND contact_id = ?',
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

  const enqueue = db.transaction(
    (row: Omit<DeliveryRow, 'seq'>, contactId: string | null, ids: readonly string[]) => {
      const inserted = sql.insertDelivery.get(row)!
      for (const id of ids) sql.deletePending.run(row.workspace, contactId ?? row.contact_id, id)
      return inserted
    },
  )
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
  const forget = db.transaction((workspace: string, contactId: string) => {
    sql.forgetDeliveries.run(workspace, contactId)
    sql.forgetPending.run(workspace, contactId)
    sql.forgetLookup.run(workspace, contactId)
    sql.forgetSequence.run(workspace, contactId)
  })

  return {
    async getConfig(workspace) {
      ensureOpen()
      const r = sql.getConfig.get(workspace)
      return r === undefined
        ? null
        : ({
            workspace: r.workspace,
            enabled: r.enabled === 1,
            lookupUrl: r.lookup_url,
            writeBackUrl: r.write_back_url,
            notificationUrl: r.notification_url,
            secret: r.secret,
            updatedAt: r.updated_at,
          } satisfies CrmConfig)
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
    async enqueue(d, clear) {
      ensureOpen()
      const row = enqueue(
        {
          id: d.id,
          workspace: d.workspace,
          contact_id: d.contactId,
          kind: d.kind,
          body: d.body,
          state: 'pending',
          attempts: 0,
          next_attempt_at: d.createdAt,
          last_error: null,
          created_at: d.createdAt,
          updated_at: d.createdAt,
        },
        clear?.contactId ?? null,
        clear?.attributeIds ?? [],
      )
      return toDelivery(row)
    },
    async dueHeads(now, limit) {
      ensureOpen()
      return sql.dueHeads.all(now, limit).map(toDelivery)
    },
    async nextDueAt() {
      ensureOpen()
      return sql.nextDue.get()?.t ?? null
    },
    async markDelivered(id, attempts, at) {
      ensureOpen()
      sql.delivered.run(attempts, at, id)
    },
    async markRetry(id, attempts, nextAttemptAt, error) {
      ensureOpen()
      sql.retry.run(attempts, nextAttemptAt, error, Date.now(), id)
    },
    async markDead(id, attempts, error, at) {
      ensureOpen()
      sql.dead.run(attempts, error, at, id)
    },
    async revive(workspace, id, at) {
      ensureOpen()
      return sql.revive.run(at, at, workspace, id).changes > 0
    },
    async getDelivery(workspace, id) {
      ensureOpen()
      const r = sql.getDelivery.get(workspace, id)
      return r === undefined ? null : toDelivery(r)
    },
    async listDeliveries(workspace, query) {
      ensureOpen()
      const rows =
        query.state === undefined
          ? sql.listAll.all(workspace, query.limit)
          : sql.listState.all(workspace, query.state, query.limit)
      return rows.map(toDelivery)
    },
    async countDeliveries(workspace) {
      ensureOpen()
      const counts: Record<DeliveryState, number> = { pending: 0, delivered: 0, dead: 0 }
      for (const r of sql.count.all(workspace)) counts[r.state as DeliveryState] = r.n
      return counts
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
      return sql.listPending.all(workspace, contactId).map((r): PendingWriteBack => ({
        workspace: r.workspace,
        contactId: r.contact_id,
        attributeId: r.attribute_id,
        by: { role: r.by_role as PendingWriteBack['by']['role'], userId: r.by_user, at: r.at },
      }))
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
      return r === undefined
        ? null
        : {
            workspace: r.workspace,
            contactId: r.contact_id,
            at: r.at,
            outcome: r.outcome as CrmLookupRecord['outcome'],
            reason: r.reason,
          }
    },
    async forgetContact(workspace, contactId) {
      ensureOpen()
      forget(workspace, contactId)
    },
  }
}
