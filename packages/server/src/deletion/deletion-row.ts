import type { ChannelId } from '@cardfile/core'
import type { DeletionRecord } from './deletion-log'

/** A row of the `deleted_contacts` table, as both SQL engines return it. */
export interface DeletionSqlRow {
  workspace: string
  id: string
  hint: string
  channel: string
  deleted_at: number
  deleted_by_user: string
  deleted_by_name: string | null
}

/** Reads a deletion-log row as a record (shared by the SQLite and PostgreSQL logs). */
export const toDeletionRecord = (r: DeletionSqlRow): DeletionRecord => ({
  workspace: r.workspace,
  id: r.id,
  hint: r.hint,
  channel: r.channel as ChannelId,
  deletedAt: r.deleted_at,
  deletedBy: { userId: r.deleted_by_user, name: r.deleted_by_name },
})
