import type { ChannelId, ConversationStatus } from '@cardfile/core'
import type { ConversationIndexRow } from './index-store'

/** A row of the `conversations` index table, as both SQL engines return it. */
export interface ConversationSqlRow {
  workspace: string
  id: string
  contact_id: string
  channel: string
  status: string
  team: string | null
  priority: number
  created_at: number
  updated_at: number
}

/** Reads a `conversations` table row as an index row (shared by both SQL stores). */
export const toConversation = (r: ConversationSqlRow): ConversationIndexRow => ({
  kind: 'conversation',
  workspace: r.workspace,
  id: r.id,
  contactId: r.contact_id,
  channel: r.channel as ChannelId,
  status: r.status as ConversationStatus,
  team: r.team,
  priority: r.priority,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
})
