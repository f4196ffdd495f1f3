import type { PgDatabase } from '../storage/postgres-database'
import type { CrmStorage, PendingWriteBack } from './crm-storage'
import { toCrmConfig, toLookupRecord, toPendingWriteBack } from './crm-rows'
import type { ConfigRow, LookupRow, PendingRow } from './crm-rows'

const PUT_CONFIG = `
  INSERT INTO crm_config (workspace, enabled, lookup_url, write_back_url, notification_url,
    secret, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7)
  ON CONFLICT (workspace) DO UPDATE SET enabled = excluded.enabled,
    lookup_url = excluded.lookup_url, write_back_url = excluded.write_back_url,
    notification_url = excluded.notification_url, secret = excluded.secret,
    updated_at = excluded.updated_at`

// One statement: the row lock of the conflict makes concurrent callers (in any process) take
// turns, and each reads back the value it wrote.
const NEXT_SEQUENCE = `
  INSERT INTO crm_sequences (workspace, contact_id, n) VALUES ($1, $2, 1)
  ON CONFLICT (workspace, contact_id) DO UPDATE SET n = crm_sequences.n + 1
  RETURNING n`

const PUT_PENDING = `
  INSERT INTO crm_pending (workspace, contact_id, attribute_id, by_role, by_user, at)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
  ON CONFLICT (workspace, contact_id, attribute_id) DO UPDATE SET by_role = excluded.by_role,
    by_user = excluded.by_user, at = excluded.at`

const PENDING_COLUMNS = 'workspace, contact_id, attribute_id, by_role, by_user, at'

const PUT_LOOKUP = `
  INSERT INTO crm_lookups (workspace, contact_id, at, outcome, reason)
  VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (workspace, contact_id) DO UPDATE SET at = excluded.at,
    outcome = excluded.outcome, reason = excluded.reason`

// The three tables in one statement, so an erasure never leaves part of them behind.
const FORGET_CONTACT = `
  WITH pending AS (
    DELETE FROM crm_pending WHERE workspace = $1 AND contact_id = $2
  ), lookups AS (
    DELETE FROM crm_lookups WHERE workspace = $1 AND contact_id = $2
  )
  DELETE FROM crm_sequences WHERE workspace = $1 AND contact_id = $2`

const pendingKey = (r: PendingWriteBack): string =>
  `${r.workspace}\u0000${r.contactId}\u0000${r.attributeId}`

/**
 * A batch of pending write-backs as one row per attribute, the later row of the batch winning
 * (one INSERT may not update a row twice), in key order so that concurrent batches lock
 * shared rows in the same order instead of deadlocking.
 */
function lastPerAttribute(rows: readonly PendingWriteBack[]): PendingWriteBack[] {
  const byKey = new Map<string, PendingWriteBack>()
  for (const r of rows) byKey.set(pendingKey(r), r)
  return [...byKey.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([, r]) => r)
}

/**
 * The CRM tables of the PostgreSQL store: configuration, pending write-backs, sequence numbers
 * and lookup outcomes, in the database that holds the documents and the jobs carrying the
 * deliveries, with the same answers as the SQLite one. Every method is a single statement, so
 * it is atomic on its own; sequence numbers and replacements are upserts, safe with several
 * server processes on one database.
 *
 * @example
 * const crm = createPostgresCrmStorage(db)
 * const seq = await crm.nextSequence('demo', 'c1') // 1, then 2, …
 */
export function createPostgresCrmStorage(db: PgDatabase): CrmStorage {
  return {
    async getConfig(workspace) {
      const r = await db.one<ConfigRow>(
        `SELECT workspace, enabled, lookup_url, write_back_url, notification_url, secret,
           updated_at
         FROM crm_config WHERE workspace = $1`,
        [workspace],
      )
      return r === undefined ? null : toCrmConfig(r)
    },

    async putConfig(c) {
      await db.run(PUT_CONFIG, [
        c.workspace,
        c.enabled ? 1 : 0,
        c.lookupUrl,
        c.writeBackUrl,
        c.notificationUrl,
        c.secret,
        c.updatedAt,
      ])
    },

    async nextSequence(workspace, contactId) {
      const row = await db.one<{ n: number }>(NEXT_SEQUENCE, [workspace, contactId])
      // RETURNING of an upsert always yields its row.
      return row!.n
    },

    async putPending(rows) {
      const batch = lastPerAttribute(rows)
      if (batch.length === 0) return
      await db.run(PUT_PENDING, [
        batch.map((r) => r.workspace),
        batch.map((r) => r.contactId),
        batch.map((r) => r.attributeId),
        batch.map((r) => r.by.role),
        batch.map((r) => r.by.userId),
        batch.map((r) => r.by.at),
      ])
    },

    async listPending(workspace, contactId) {
      const rows = await db.rows<PendingRow>(
        `SELECT ${PENDING_COLUMNS} FROM crm_pending WHERE workspace = $1 AND contact_id = $2
         ORDER BY attribute_id`,
        [workspace, contactId],
      )
      return rows.map(toPendingWriteBack)
    },

    async clearPending(workspace, contactId, attributeIds) {
      if (attributeIds.length === 0) return
      await db.run(
        `DELETE FROM crm_pending
         WHERE workspace = $1 AND contact_id = $2 AND attribute_id = ANY($3::text[])`,
        [workspace, contactId, attributeIds],
      )
    },

    async putLookup(r) {
      await db.run(PUT_LOOKUP, [r.workspace, r.contactId, r.at, r.outcome, r.reason])
    },

    async getLookup(workspace, contactId) {
      const r = await db.one<LookupRow>(
        `SELECT workspace, contact_id, at, outcome, reason FROM crm_lookups
         WHERE workspace = $1 AND contact_id = $2`,
        [workspace, contactId],
      )
      return r === undefined ? null : toLookupRecord(r)
    },

    async forgetContact(workspace, contactId) {
      await db.run(FORGET_CONTACT, [workspace, contactId])
    },
  }
}
