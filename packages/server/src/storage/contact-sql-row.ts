import type { ChannelId } from '@cardfile/core'
import type { ContactIndexRow } from './index-store'

/** A row of the SQLite `contacts` index table, as better-sqlite3 returns it. */
export interface ContactSqlRow {
  workspace: string
  id: string
  channel: string
  platform_user_id: string
  hint: string
  vip: number
  match_value: string | null
  values_json: string
  created_at: number
  updated_at: number
}

/** The stored values object; anything malformed reads as no values rather than failing a query. */
export const parseContactValues = (json: string): Record<string, string> => {
  try {
    const parsed: unknown = JSON.parse(json)
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, string>) : {}
  } catch {
    return {}
  }
}

/** Reads a `contacts` table row as an index row (shared by the store, links and exports). */
export const toContactIndexRow = (r: ContactSqlRow): ContactIndexRow => ({
  kind: 'contact',
  workspace: r.workspace,
  id: r.id,
  channel: r.channel as ChannelId,
  platformUserId: r.platform_user_id,
  hint: r.hint,
  vip: r.vip === 1,
  matchValue: r.match_value,
  values: parseContactValues(r.values_json),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
})
