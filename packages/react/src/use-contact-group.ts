import { useLiveList } from './use-live-list'
import type { LiveListOptions, LiveListResult } from './use-live-list'
import type { IndexedContact } from '@cardfile/core'

/** The contact groups there are; VIP is the first. */
export type ContactGroupName = 'vip'

/** What {@link useContactGroup} returns. */
export interface ContactGroupResult extends LiveListResult<IndexedContact> {
  /** False while the group is switched off (VIP off, or a plan without it): the list is empty. */
  readonly enabled: boolean
}

interface GroupAnswer {
  readonly items: IndexedContact[]
  readonly next: string | null
  readonly enabled: boolean
}

/**
 * The contacts of a group (`'vip'`: the VIP contacts), newest first, a page at a time. Live:
 * the server pushes every change of the group (a VIP mark by anyone, VIP switched off), so the
 * list is fetched again only when it changed. For agents and admins.
 *
 * @example
 * function VipList() {
 *   const { items, enabled, hasMore, loadMore } = useContactGroup('vip')
 *   if (!enabled) return null
 *   return <>{items.map((c) => <p key={c.id}>★ {c.hint}</p>)}</>
 * }
 */
export function useContactGroup(
  group: ContactGroupName,
  options: LiveListOptions = {},
): ContactGroupResult {
  const { answer, ...list } = useLiveList<IndexedContact, GroupAnswer>({ kind: group }, options)
  // Unknown until the first answer: treated as enabled so a list does not flash "off".
  return { ...list, enabled: answer?.enabled ?? true }
}
