import type { ListQuery } from '../list-queries'
import type { ConversationStatus } from '../types'

/*
 * Pushed rows applied to a loaded list before the refetch that confirms it: the same filters
 * and order as the server's index (storage/index-rules.ts), for the lists of conversations.
 */

/** The fields of a conversation index row the filters and the order read. */
interface ConversationRowKey {
  readonly id: string
  readonly contactId: string
  readonly status: ConversationStatus
  readonly team: string | null
  readonly priority: number
  readonly createdAt: number
}

const STATUSES: readonly unknown[] = ['new', 'pending', 'resolved']

const isConversationRow = (row: unknown): row is ConversationRowKey => {
  if (typeof row !== 'object' || row === null) return false
  const r = row as Record<string, unknown>
  return (
    typeof r.id === 'string' &&
    typeof r.contactId === 'string' &&
    STATUSES.includes(r.status) &&
    (r.team === null || typeof r.team === 'string') &&
    Number.isFinite(r.priority) &&
    Number.isFinite(r.createdAt)
  )
}

const idOf = (item: unknown): unknown =>
  typeof item === 'object' && item !== null ? (item as { id?: unknown }).id : undefined

/** Queue order: priority descending, then oldest first, then id ascending. */
const byPriority = (a: ConversationRowKey, b: ConversationRowKey): number =>
  b.priority - a.priority || a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

/** Newest first: createdAt descending, then id descending. */
const byNewest = (a: ConversationRowKey, b: ConversationRowKey): number =>
  b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)

/**
 * The loaded `items` of `query` with a pushed conversation `row` applied: its old copy removed,
 * the new one inserted where the server's order puts it, when the query still matches it and
 * that place is among the loaded rows (or all rows are loaded). Null when the query does not
 * list conversations or the row is not one (the list is then only refetched).
 *
 * @example
 * applyConversationRow({ kind: 'queue', team: null }, items, row, false)
 */
export function applyConversationRow(
  query: ListQuery,
  items: readonly unknown[],
  row: unknown,
  complete: boolean,
): unknown[] | null {
  if (!isConversationRow(row)) return null
  let matches: boolean
  let order: (a: ConversationRowKey, b: ConversationRowKey) => number
  if (query.kind === 'queue') {
    matches = row.team === query.team && row.status !== 'resolved'
    order = byPriority
  } else if (query.kind === 'conversations') {
    matches =
      (query.contactId === undefined || row.contactId === query.contactId) &&
      (query.team === undefined || row.team === query.team) &&
      (query.status === undefined || query.status.includes(row.status))
    const newest =
      (query.order ?? (query.contactId === undefined ? 'priority' : 'newest')) === 'newest'
    order = newest ? byNewest : byPriority
  } else {
    return null
  }
  const others = items.filter((item) => idOf(item) !== row.id)
  if (!matches) return others
  if (!others.every(isConversationRow)) return null
  const at = others.findIndex((item) => order(row, item as ConversationRowKey) < 0)
  // Past the last loaded row of an incomplete list: it belongs to a page not loaded yet.
  if (at === -1 && !complete) return others
  const place = at === -1 ? others.length : at
  return [...others.slice(0, place), row, ...others.slice(place)]
}
