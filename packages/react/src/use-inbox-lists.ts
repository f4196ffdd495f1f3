import type { IndexedContact, IndexedConversation, ListQuery } from '@cardfile/core'
import { useLiveList } from './use-live-list'
import type { LiveListExtras, LiveListOptions, LiveListResult } from './use-live-list'

/** What the inbox list hooks return: a live page-at-a-time list. */
export interface InboxListResult<T> extends LiveListResult<T> {
  /** Whether the server pushes this list's changes now (otherwise it is polled, slowly). */
  readonly push: LiveListExtras<unknown>['push']
  /** True while the loaded pages are fetched again in the background (items stay shown). */
  readonly refreshing: boolean
}

/** Filters of {@link useConversations}: each one left out does not filter. */
export type ConversationsQuery = Omit<
  Extract<ListQuery, { readonly kind: 'conversations' }>,
  'kind'
>

/** Filters of {@link useContacts}. */
export interface ContactsQuery {
  /** Only VIP contacts (true) or only the others (false). */
  readonly vip?: boolean
}

const withoutAnswer = <T>({
  answer: _answer,
  ...list
}: LiveListResult<T> & LiveListExtras<unknown>): InboxListResult<T> => list

/**
 * A team's queue: its open conversations (new and pending), highest priority first, then
 * oldest first; `null` for the conversations routed to no team. Live: a new conversation, a
 * status change, a re-route or a VIP boost by anyone shows without polling. Every component
 * showing the same queue shares one list and one fetch. For agents and admins.
 *
 * @example
 * function BillingQueue({ onOpen }: { onOpen: (id: string) => void }) {
 *   const { items, loading, hasMore, loadMore } = useQueue('billing', { pageSize: 25 })
 *   if (loading && items.length === 0) return <p>Loading…</p>
 *   return (
 *     <ol>
 *       {items.map((c) => <li key={c.id} onClick={() => onOpen(c.id)}>{c.channel} · {c.status}</li>)}
 *       {hasMore && <button onClick={loadMore}>More</button>}
 *     </ol>
 *   )
 * }
 */
export function useQueue(
  team: string | null,
  options: LiveListOptions = {},
): InboxListResult<IndexedConversation> {
  return withoutAnswer(useLiveList<IndexedConversation>({ kind: 'queue', team }, options))
}

/**
 * Conversations by contact, team and status, live: by priority (then oldest first), or newest
 * first when `contactId` is given (`order` chooses). For agents and admins. A list of one
 * contact's conversations ends (error `deleted`, no items) when the contact is deleted.
 *
 * @example
 * function Resolved() {
 *   const { items } = useConversations({ status: ['resolved'], order: 'newest' })
 *   return <ul>{items.map((c) => <li key={c.id}>{c.id}</li>)}</ul>
 * }
 * // one contact's conversations, newest first:
 * // useConversations({ contactId: 'c1' })
 */
export function useConversations(
  query: ConversationsQuery = {},
  options: LiveListOptions = {},
): InboxListResult<IndexedConversation> {
  return withoutAnswer(
    useLiveList<IndexedConversation>({ kind: 'conversations', ...query }, options),
  )
}

/**
 * Contacts, newest first, optionally only VIPs (or only the others); live. For agents and
 * admins.
 *
 * @example
 * function VipNames() {
 *   const { items } = useContacts({ vip: true })
 *   return <ul>{items.map((c) => <li key={c.id}>{c.hint}</li>)}</ul>
 * }
 */
export function useContacts(
  query: ContactsQuery = {},
  options: LiveListOptions = {},
): InboxListResult<IndexedContact> {
  const listQuery: ListQuery =
    query.vip === undefined ? { kind: 'contacts' } : { kind: 'contacts', vip: query.vip }
  return withoutAnswer(useLiveList<IndexedContact>(listQuery, options))
}
