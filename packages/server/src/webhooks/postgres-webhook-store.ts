import type { PgDatabase } from '../storage/postgres-database'
import { toWebhook } from './webhook-rows'
import type { WebhookRow } from './webhook-rows'
import type { WebhookStore } from './webhook-store'

const COLUMNS = 'id, workspace, url, events, secret, created_at, updated_at'

/**
 * The `webhooks` table of the PostgreSQL store (migration 3).
 *
 * @example
 * const webhooks = createPostgresWebhookStore(db)
 */
export function createPostgresWebhookStore(db: PgDatabase): WebhookStore {
  return {
    async create(w) {
      await db.run(`INSERT INTO webhooks (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
        w.id,
        w.workspace,
        w.url,
        JSON.stringify(w.events),
        w.secret,
        w.createdAt,
        w.updatedAt,
      ])
    },
    async list(workspace) {
      const rows = await db.rows<WebhookRow>(
        `SELECT ${COLUMNS} FROM webhooks WHERE workspace = $1 ORDER BY created_at, id`,
        [workspace],
      )
      return rows.map(toWebhook)
    },
    async get(workspace, id) {
      const row = await db.one<WebhookRow>(
        `SELECT ${COLUMNS} FROM webhooks WHERE workspace = $1 AND id = $2`,
        [workspace, id],
      )
      return row === undefined ? null : toWebhook(row)
    },
    async remove(workspace, id) {
      return (
        (await db.run('DELETE FROM webhooks WHERE workspace = $1 AND id = $2', [workspace, id])) > 0
      )
    },
    async setSecret(workspace, id, secret, at) {
      return (
        (await db.run(
          'UPDATE webhooks SET secret = $1, updated_at = $2 WHERE workspace = $3 AND id = $4',
          [secret, at, workspace, id],
        )) > 0
      )
    },
  }
}
