import { CardfileError, ErrorCodes, parseDocName } from '@cardfile/core'
import type { ContactIndexRow, ConversationIndexRow, IndexRow } from './index-store'
import type { NewestCursor, PriorityCursor } from './cursor'

/**
 * Rules every storage adapter applies to index rows, written once so the SQLite and memory
 * adapters answer queries identically.
 */

/**
 * Refuses an index row that does not belong to the document it is appended with: an index row
 * for another document would survive that document's erasure.
 */
export function checkIndexRow(docName: string, row: IndexRow | undefined): void {
  if (row === undefined) return
  const parsed = parseDocName(docName)
  if (
    parsed === null ||
    parsed.kind !== row.kind ||
    parsed.workspace !== row.workspace ||
    parsed.id !== row.id
  ) {
    throw new CardfileError(
      ErrorCodes.BadRequest,
      `index row ${row.kind} ${row.workspace}/${row.id} does not belong to document ${docName}`,
    )
  }
}

/** The error for a second contact with a channel identity another contact already has. */
export const identityTaken = (row: ContactIndexRow): CardfileError =>
  new CardfileError(
    ErrorCodes.InvalidValue,
    `another contact of workspace ${row.workspace} already has ${row.channel} identity ${row.platformUserId}`,
  )

type Dated = Pick<ContactIndexRow, 'createdAt' | 'id'>

/** Newest first: createdAt descending, then id descending (the tie-break keeps pages stable). */
export const compareNewest = (a: Dated, b: Dated): number =>
  b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)

/** Team queue: priority descending, then oldest first, then id ascending. */
export const comparePriority = (a: ConversationIndexRow, b: ConversationIndexRow): number =>
  b.priority - a.priority || a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

/** True when `row` comes after the cursor in newest-first order. */
export const isAfterNewest = (row: Dated, c: NewestCursor): boolean =>
  row.createdAt < c.t || (row.createdAt === c.t && row.id < c.i)

/** True when `row` comes after the cursor in team-queue order. */
export const isAfterPriority = (row: ConversationIndexRow, c: PriorityCursor): boolean =>
  row.priority < c.p ||
  (row.priority === c.p && (row.createdAt > c.t || (row.createdAt === c.t && row.id > c.i)))
