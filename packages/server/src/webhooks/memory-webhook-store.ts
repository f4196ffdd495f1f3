import { CardfileError, ErrorCodes } from '@cardfile/core'
import type { Webhook, WebhookStore } from './webhook-store'

/**
 * Webhooks in memory, for the memory backend. Ids are unique across workspaces, as the SQL
 * tables' primary key makes them.
 *
 * @example
 * const webhooks = createMemoryWebhookStore(ensureOpen)
 */
export function createMemoryWebhookStore(ensureOpen: () => void): WebhookStore {
  const hooks = new Map<string, Webhook>()
  const find = (workspace: string, id: string): Webhook | null => {
    const hook = hooks.get(id)
    return hook !== undefined && hook.workspace === workspace ? hook : null
  }
  return {
    async create(webhook) {
      ensureOpen()
      if (hooks.has(webhook.id)) {
        throw new CardfileError(ErrorCodes.Internal, `webhook ${webhook.id} already exists`)
      }
      hooks.set(webhook.id, { ...webhook, events: [...webhook.events] })
    },
    async list(workspace) {
      ensureOpen()
      return [...hooks.values()]
        .filter((h) => h.workspace === workspace)
        .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    },
    async get(workspace, id) {
      ensureOpen()
      return find(workspace, id)
    },
    async remove(workspace, id) {
      ensureOpen()
      return find(workspace, id) !== null && hooks.delete(id)
    },
    async setSecret(workspace, id, secret, at) {
      ensureOpen()
      const hook = find(workspace, id)
      if (hook === null) return false
      hooks.set(id, { ...hook, secret, updatedAt: at })
      return true
    },
  }
}
