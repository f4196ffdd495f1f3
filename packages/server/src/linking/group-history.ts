import { encodeCursor } from '../storage/cursor'
import { compareNewest } from '../storage/index-rules'
import type { ConversationIndexRow, IndexStore, Page } from '../storage/index-store'

/** Up to this many contacts, history is read contact by contact and merged. */
const MERGE_UP_TO = 50

/**
 * A page of the conversations of several contacts (a link group), newest first. For a group
 * of people-sized groups each contact's conversations are read through the per-contact index
 * and merged, which stays fast however many conversations the workspace has; a larger set
 * falls back to one query.
 *
 * @example
 * const page = await groupHistory(backend.index, 'demo', ['c1', 'c2'], 50, null)
 */
export async function groupHistory(
  index: IndexStore,
  workspace: string,
  contactIds: readonly string[],
  limit: number,
  cursor: string | null,
): Promise<Page<ConversationIndexRow>> {
  if (contactIds.length > MERGE_UP_TO) {
    return index.listConversations(workspace, { contactIds, order: 'newest', limit, cursor })
  }
  // The cursor is a position in newest-first order, so it applies to every contact alike.
  const pages = await Promise.all(
    contactIds.map((id) =>
      index.listConversations(workspace, { contactIds: [id], order: 'newest', limit, cursor }),
    ),
  )
  const merged = pages.flatMap((p) => p.items).sort(compareNewest)
  const items = merged.slice(0, limit)
  const last = items.at(-1)
  const more = merged.length > limit || pages.some((p) => p.next !== null)
  return {
    items,
    next:
      more && last !== undefined
        ? encodeCursor({ o: 'newest', t: last.createdAt, i: last.id })
        : null,
  }
}
