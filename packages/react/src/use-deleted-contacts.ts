import type { CardfileError } from '@cardfile/core'
import type { DeletedContactRecord } from './use-delete-contact'
import { useLiveList } from './use-live-list'

/** Options of {@link useDeletedContacts}. */
export interface UseDeletedContactsOptions {
  /** Records per page (1 to 200, default 50). */
  readonly pageSize?: number
}

/** What {@link useDeletedContacts} returns. */
export interface DeletedContactsResult {
  /** Records loaded so far, newest first. */
  readonly items: readonly DeletedContactRecord[]
  readonly loading: boolean
  readonly error: CardfileError | null
  /** More records exist beyond `items`. */
  readonly hasMore: boolean
  /** Loads the next page. */
  loadMore(): void
  /** Reloads from the newest record. */
  refresh(): void
}

/**
 * The deleted-contacts audit log (admins only): masked hint, platform, deletion time and the
 * admin who deleted, newest first, a page at a time. Live: a deletion by any admin shows at
 * once (pushed by the server).
 *
 * @example
 * function DeletedContacts() {
 *   const { items, hasMore, loadMore } = useDeletedContacts({ pageSize: 20 })
 *   return (
 *     <>
 *       {items.map((r) => <p key={r.id}>{r.hint} ({r.channel}) by {r.deletedBy.name}</p>)}
 *       {hasMore && <button onClick={loadMore}>More</button>}
 *     </>
 *   )
 * }
 */
export function useDeletedContacts(options: UseDeletedContactsOptions = {}): DeletedContactsResult {
  const { items, loading, error, hasMore, loadMore, refresh } = useLiveList<DeletedContactRecord>(
    { kind: 'deleted-contacts' },
    options,
  )
  return { items, loading, error, hasMore, loadMore, refresh }
}
