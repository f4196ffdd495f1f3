import type { ChannelId, ConversationStatus } from '@cardfile/core'
import { useLiveList } from './use-polled-pages'
import type { LiveListOptions, LiveListResult } from './use-polled-pages'

/** A conversation as the server's index lists it. */
export interface IndexedConversation {
  readonly id: string
  readonly contactId: string
  readonly channel: ChannelId
  readonly status: ConversationStatus
  readonly team: string | null
  readonly priority: number
  readonly createdAt: number
  readonly updatedAt: number
}

/**
 * A contact's cross-channel history: every conversation of every contact linked to it, newest
 * first, a page at a time. Live by polling (`pollMs`, default 5 s) and at once when the
 * contact's document open on this client changes. Open a conversation with
 * `client.conversation(id)` to read its messages.
 *
 * @example
 * function History({ contactId }: { contactId: string }) {
 *   const { items, hasMore, loadMore } = useContactHistory(contactId, { pageSize: 20 })
 *   return (
 *     <ol>
 *       {items.map((c) => <li key={c.id}>{c.channel} · {c.status}</li>)}
 *       {hasMore && <button onClick={loadMore}>Older</button>}
 *     </ol>
 *   )
 * }
 */
export function useContactHistory(
  contactId: string,
  options: LiveListOptions = {},
): LiveListResult<IndexedConversation> {
  const { answer: _answer, ...list } = useLiveList<IndexedConversation>(
    `/contacts/${encodeURIComponent(contactId)}/history`,
    { ...options, watchContact: contactId },
  )
  return list
}
