import type { IndexedContact } from '@cardfile/core'
import { useLiveList } from './use-live-list'
import type { LiveListOptions, LiveListResult } from './use-live-list'

/** A manual link or unlink between two contacts, with who made it. */
export interface ContactLinkRecord {
  readonly a: string
  readonly b: string
  readonly kind: 'link' | 'unlink'
  /** For an unlink: the contact that was detached. */
  readonly subject: string
  readonly by: { readonly role: string; readonly userId: string }
  readonly at: number
}

/** What {@link useLinkedContacts} returns: the page of linked contacts and the group's facts. */
export interface LinkedContactsResult extends LiveListResult<IndexedContact> {
  /** Contacts in the group, this one included (0 until loaded). */
  readonly size: number
  /** The group was cut at the server's limit (a matching value shared by too many contacts). */
  readonly truncated: boolean
  /** Manual links and unlinks that shaped the group. */
  readonly records: readonly ContactLinkRecord[]
}

interface LinkedAnswer {
  readonly items: IndexedContact[]
  readonly next: string | null
  readonly size: number
  readonly truncated: boolean
  readonly records: ContactLinkRecord[]
}

/**
 * The contacts linked to a contact across channels (same normalised value of the workspace's
 * matching attribute, plus manual links, minus unlinks), newest first, a page at a time. Live:
 * the server pushes links, unlinks and contact changes by anyone, and a link change made
 * through {@link useContactLinks} (which links and unlinks by hand) refreshes it at once. The
 * list ends (error `deleted`, no items) when the contact is deleted. For agents and admins.
 *
 * @example
 * function Linked({ contactId }: { contactId: string }) {
 *   const { items, hasMore, loadMore } = useLinkedContacts(contactId)
 *   return (
 *     <ul>
 *       {items.map((c) => <li key={c.id}>{c.channel}: {c.hint}</li>)}
 *       {hasMore && <button onClick={loadMore}>More</button>}
 *     </ul>
 *   )
 * }
 */
export function useLinkedContacts(
  contactId: string,
  options: LiveListOptions = {},
): LinkedContactsResult {
  const { answer, ...list } = useLiveList<IndexedContact, LinkedAnswer>(
    { kind: 'linked', contactId },
    options,
  )
  return {
    ...list,
    size: answer?.size ?? 0,
    truncated: answer?.truncated ?? false,
    records: answer?.records ?? [],
  }
}
