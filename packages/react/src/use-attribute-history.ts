import type { AttributeChange } from '@cardfile/core'
import { useLiveList } from './use-live-list'
import type { LiveListOptions, LiveListResult } from './use-live-list'

/** What {@link useAttributeHistory} returns: the changes loaded so far, newest first. */
export type AttributeHistoryResult = LiveListResult<AttributeChange>

/**
 * The history of one value of a contact: every change of attribute `attributeId` (a custom or
 * platform attribute id, or `vip` for the VIP flag), newest first, each with who made it (a user
 * and their role, or the CRM, a bot or the system), when, and the value before and after. Pages
 * of `pageSize` (default 50) with `loadMore`; kept live by the server, which pushes a change
 * of the contact to every client showing its history. Pass `null` as the
 * attribute to load nothing (a closed disclosure). Admins and agents may read it.
 *
 * @example
 * function PlanHistory({ contactId }: { contactId: string }) {
 *   const { items, hasMore, loadMore, error } = useAttributeHistory(contactId, 'plan')
 *   if (error) return <p>{error.message}</p>
 *   return (
 *     <ol>
 *       {items.map((c) => (
 *         <li key={c.id}>
 *           {new Date(c.at).toLocaleString()}: {String(c.previous ?? '—')} → {String(c.value ?? '—')}
 *           {' '}by {c.by.userId} ({c.by.role})
 *         </li>
 *       ))}
 *       {hasMore && <button onClick={loadMore}>Older</button>}
 *     </ol>
 *   )
 * }
 */
export function useAttributeHistory(
  contactId: string,
  attributeId: string | null,
  options: LiveListOptions = {},
): AttributeHistoryResult {
  const { answer: _answer, ...list } = useLiveList<AttributeChange>(
    attributeId === null ? null : { kind: 'value-history', contactId, attributeId },
    options,
  )
  return list
}
