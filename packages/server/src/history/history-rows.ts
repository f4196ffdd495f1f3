import { CardfileError, ErrorCodes } from '@cardfile/core'
import type { Role } from '@cardfile/core'
import type {
  HistoryValue,
  ValueChange,
  ValueHistoryEntry,
  ValueHistoryPage,
} from './value-history'

/** A row of the `value_history` table as SQLite and PostgreSQL return it. */
export interface ValueHistorySqlRow {
  readonly id: number | string
  readonly workspace: string
  readonly contact_id: string
  readonly attribute_id: string
  readonly previous_json: string
  readonly value_json: string
  readonly by_role: string
  readonly by_user: string
  readonly at: number | string
}

/** The columns of a change, values as JSON (a value is text, a flag or null). */
export function historyColumns(change: ValueChange) {
  return {
    workspace: change.workspace,
    contact_id: change.contactId,
    attribute_id: change.attributeId,
    previous_json: JSON.stringify(change.previous),
    value_json: JSON.stringify(change.value),
    by_role: change.by.role,
    by_user: change.by.userId,
    at: change.at,
  }
}

const parsed = (json: string): HistoryValue => {
  const value: unknown = JSON.parse(json)
  return typeof value === 'string' || typeof value === 'boolean' ? value : null
}

/** A stored row as an entry. */
export function toHistoryEntry(row: ValueHistorySqlRow): ValueHistoryEntry {
  return {
    id: Number(row.id),
    workspace: row.workspace,
    contactId: row.contact_id,
    attributeId: row.attribute_id,
    previous: parsed(row.previous_json),
    value: parsed(row.value_json),
    by: { role: row.by_role as Role, userId: row.by_user },
    at: Number(row.at),
  }
}

/** Most entries one page holds. */
export const MAX_HISTORY_PAGE = 200

/**
 * The id a cursor names (entries below it come next), or null for the first page.
 *
 * @throws CardfileError `bad-request` for anything that is not a cursor this store gave out.
 */
export function historyCursor(cursor: string | null, limit: number): number | null {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HISTORY_PAGE) {
    throw new CardfileError(ErrorCodes.BadRequest, `limit must be 1 to ${MAX_HISTORY_PAGE}`)
  }
  if (cursor === null) return null
  if (!/^[1-9][0-9]{0,15}$/.test(cursor)) {
    throw new CardfileError(ErrorCodes.BadRequest, 'Invalid cursor')
  }
  return Number(cursor)
}

/** A page from up to `limit + 1` entries, newest first. */
export function historyPage(
  entries: readonly ValueHistoryEntry[],
  limit: number,
): ValueHistoryPage {
  const items = entries.slice(0, limit)
  const last = items[items.length - 1]
  return {
    items,
    next: entries.length > limit && last !== undefined ? String(last.id) : null,
  }
}
