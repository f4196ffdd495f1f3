import type { Database } from 'better-sqlite3'
import { toWebhook, webhookRow } from './webhook-rows'
import type { WebhookRow } from './webhook-rows'
import type { WebhookStore } from './webhook-store'

/**
 * The `webhooks` table of the SQLite store (migration 11).
 *
 * @example
 * const webhooks = createSqliteWebhookStore(db, ensureOpen)
 */
export function createSqliteWebhookStore(db: Database, ensureOpen: () => void): WebhookStore {
  const sql = {
    create: db.prepare<[WebhookRow]>(
      `INSERT INTO webhooks (id, workspace, url, events, secret, created_at, updated_at)
       VALUES (@id, @workspace, @url, @events, @secret, @created_at, @updated_at)`,
    ),
    list: db.prepare<[string], WebhookRow>(
      'SELECT * FROM webhooks WHERE workspace = ? ORDER BY created_at, id',
    ),
    get: db.prepare<[string, string], WebhookRow>(
      'SELECT * FROM webhooks WHERE workspace = ? AND id = ?',
    ),
    remove: db.prepare<[string, string]>('DELETE FROM webhooks WHERE workspace = ? AND id = ?'),
    setSecret: db.prepare<[string, number, string, string]>(
      'UPDATE webhooks SET secret = ?, updated_at = ? WHERE workspace = ? AND id = ?',
    ),
  }
  return {
    async create(webhook) {
      ensureOpen()
      sql.create.run(webhookRow(webhook))
    },
    async list(workspace) {
      ensureOpen()
      return sql.list.all(workspace).map(toWebhook)
    },
    async get(workspace, id) {
      ensureOpen()
      const row = sql.get.get(workspace, id)
      return row === undefined ? null : toWebhook(row)
    },
    async remove(workspace, id) {
      ensureOpen()
      return sql.remove.run(workspace, id).changes > 0
    },
    async setSecret(workspace, id, secret, at) {
      ensureOpen()
      return sql.setSecret.run(secret, at, workspace, id).changes > 0
    },
  }
}
