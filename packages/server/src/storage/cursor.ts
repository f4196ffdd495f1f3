import { CardfileError, ErrorCodes } from '@cardfile/core'
import type { Page } from './index-row-types'

/**
 * Keyset pagination cursors. A cursor is the sort key of the last row of a page, as base64url
 * JSON; callers treat it as opaque. Keyset (not offset) pagination keeps pages stable while
 * rows are inserted and costs the same on page 1 and page 1,000.
 */

/** Position after a row in newest-first order (contacts, conversation history). */
export interface NewestCursor {
  readonly o: 'newest'
  /** createdAt of the last row. */
  readonly t: number
  /** id of the last row (tie-break). */
  readonly i: string
}

/** Position after a row in a team queue: priority desc, then oldest first. */
export interface PriorityCursor {
  readonly o: 'priority'
  readonly p: number
  readonly t: number
  readonly i: string
}

export type Cursor = NewestCursor | PriorityCursor

/** Encodes a cursor as an opaque base64url string. */
export const encodeCursor = (cursor: Cursor): string =>
  Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url')

const badCursor = (): CardfileError =>
  new CardfileError(ErrorCodes.BadRequest, 'invalid pagination cursor')

/**
 * Decodes a cursor of the expected order; null or undefined means the first page. A cursor
 * that is malformed or belongs to another order is a bad request, not a silent restart.
 *
 * @example
 * const after = decodeCursor(query.cursor, 'newest') // null on the first page
 */
export function decodeCursor(value: string | null | undefined, order: 'newest'): NewestCursor | null
export function decodeCursor(
  value: string | null | undefined,
  order: 'priority',
): PriorityCursor | null
export function decodeCursor(value: string | null | undefined, order: Cursor['o']): Cursor | null {
  if (value === null || value === undefined) return null
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'))
  } catch {
    throw badCursor()
  }
  if (typeof parsed !== 'object' || parsed === null) throw badCursor()
  const c = parsed as Record<string, unknown>
  if (c.o !== order || !Number.isFinite(c.t) || typeof c.i !== 'string') throw badCursor()
  if (order === 'newest') return { o: 'newest', t: c.t as number, i: c.i }
  if (!Number.isFinite(c.p)) throw badCursor()
  return { o: 'priority', p: c.p as number, t: c.t as number, i: c.i }
}

/** Largest page a query may ask for. */
export const MAX_PAGE_SIZE = 1000

/** Checks a page size: a positive integer up to {@link MAX_PAGE_SIZE}. */
export function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new CardfileError(
      ErrorCodes.BadRequest,
      `limit must be an integer from 1 to ${MAX_PAGE_SIZE}`,
    )
  }
  return limit
}

/**
 * The first `limit` of `rows` and, when more follow, the cursor after the last of them:
 * `rows` are already in order and start after the cursor, fetched `limit + 1` at a time (or
 * all of them), so that one more tells.
 */
function pageOf<T>(rows: readonly T[], limit: number, cursorOf: (last: T) => Cursor): Page<T> {
  const items = rows.slice(0, limit)
  const last = items.at(-1)
  return {
    items,
    next: rows.length > limit && last !== undefined ? encodeCursor(cursorOf(last)) : null,
  }
}

/**
 * A newest-first page of `rows`, which are already in order and start after the cursor: the
 * first `limit` of them, and the cursor after the last when more follow (fetch `limit + 1` rows,
 * or all of them, so that one more tells).
 *
 * @example
 * return newestPage(rows, limit, (record) => ({ t: record.deletedAt, i: record.id }))
 */
export function newestPage<T>(
  rows: readonly T[],
  limit: number,
  keyOf: (row: T) => { readonly t: number; readonly i: string },
): Page<T> {
  return pageOf(rows, limit, (last) => ({ o: 'newest', ...keyOf(last) }))
}

/**
 * A page of `rows` in team-queue order (priority desc, then oldest first), which are already
 * in order and start after the cursor: the first `limit` of them, and the cursor after the
 * last when more follow (fetch `limit + 1` rows so that one more tells).
 *
 * @example
 * return priorityPage(rows, limit, (r) => ({ p: r.priority, t: r.createdAt, i: r.id }))
 */
export function priorityPage<T>(
  rows: readonly T[],
  limit: number,
  keyOf: (row: T) => { readonly p: number; readonly t: number; readonly i: string },
): Page<T> {
  return pageOf(rows, limit, (last) => ({ o: 'priority', ...keyOf(last) }))
}
