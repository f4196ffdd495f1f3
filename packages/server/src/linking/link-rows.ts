import type { Role } from '@cardfile/core'
import type { ContactLinkLogEntry, ContactLinkRecord, LinkAuthor } from './link-store'

/** A row of the `contact_links` table, as both SQL engines return it. */
export interface LinkSqlRow {
  workspace: string
  a: string
  b: string
  kind: 'link' | 'unlink'
  subject: string
  by_role: string
  by_user: string | null
  at: number
}

/** A row of the `contact_link_log` table, as both SQL engines return it. */
export interface LogSqlRow extends Omit<LinkSqlRow, 'kind'> {
  seq: number
  action: 'link' | 'unlink' | 'revert'
}

/** The columns of `contacts` a re-link chunk reads. */
export interface ChunkSqlRow {
  id: string
  match_value: string | null
  values_json: string
}

const author = (r: { by_role: string; by_user: string | null }): LinkAuthor => ({
  role: r.by_role as Role,
  userId: r.by_user ?? '',
})

/** Reads a `contact_links` row as a link record (shared by both SQL link storages). */
export const toLinkRecord = (r: LinkSqlRow): ContactLinkRecord => ({
  workspace: r.workspace,
  a: r.a,
  b: r.b,
  kind: r.kind,
  subject: r.subject,
  by: author(r),
  at: r.at,
})

/** Reads a `contact_link_log` row as a log entry (shared by both SQL link storages). */
export const toLinkLogEntry = (r: LogSqlRow): ContactLinkLogEntry => ({
  seq: r.seq,
  workspace: r.workspace,
  a: r.a,
  b: r.b,
  action: r.action,
  subject: r.subject,
  by: author(r),
  at: r.at,
})
