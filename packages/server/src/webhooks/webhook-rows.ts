import type { Webhook, WebhookEvent } from './webhook-store'

/** A row of the `webhooks` table, as both SQL engines return it (`events` as JSON text). */
export interface WebhookRow {
  id: string
  workspace: string
  url: string
  events: string
  secret: string
  created_at: number | string
  updated_at: number | string
}

/** Reads a `webhooks` row (PostgreSQL returns BIGINT columns as text). */
export const toWebhook = (r: WebhookRow): Webhook => ({
  id: r.id,
  workspace: r.workspace,
  url: r.url,
  events: JSON.parse(r.events) as WebhookEvent[],
  secret: r.secret,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
})

/** The row of a webhook, for inserting. */
export const webhookRow = (w: Webhook): WebhookRow => ({
  id: w.id,
  workspace: w.workspace,
  url: w.url,
  events: JSON.stringify(w.events),
  secret: w.secret,
  created_at: w.createdAt,
  updated_at: w.updatedAt,
})
