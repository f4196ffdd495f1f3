import { useCallback, useEffect, useRef, useState } from 'react'
import { CardfileError, ErrorCodes, apiJson } from '@cardfile/core'
import { useCardfileClient } from './context'
import { onContactDeleted } from './use-delete-contact'
import type { DeletedContactRecord } from './use-delete-contact'

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

interface State {
  readonly items: readonly DeletedContactRecord[]
  readonly next: string | null
  readonly loading: boolean
  readonly error: CardfileError | null
}

const INITIAL: State = { items: [], next: null, loading: true, error: null }

/**
 * The deleted-contacts audit log (admins only): masked hint, platform, deletion time and the
 * admin who deleted, newest first, a page at a time. Refreshes after a deletion made with
 * `useDeleteContact` on the same client.
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
  const client = useCardfileClient()
  const pageSize = options.pageSize ?? 50
  const [state, setState] = useState<State>(INITIAL)
  // Each load has a generation: an answer to a superseded load (refresh, unmount) is dropped.
  const generation = useRef(0)
  const stateRef = useRef(state)
  stateRef.current = state

  const load = useCallback(
    (cursor: string | null) => {
      const mine = ++generation.current
      setState((s) => ({ ...(cursor === null ? INITIAL : s), loading: true, error: null }))
      const query = `limit=${pageSize}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`
      apiJson<{ items: DeletedContactRecord[]; next: string | null }>(
        client,
        `/api/${encodeURIComponent(client.workspace)}/deleted-contacts?${query}`,
      ).then(
        (page) => {
          if (generation.current !== mine) return
          setState((s) => ({
            items: cursor === null ? page.items : [...s.items, ...page.items],
            next: page.next,
            loading: false,
            error: null,
          }))
        },
        (e: unknown) => {
          if (generation.current !== mine) return
          const error =
            e instanceof CardfileError ? e : new CardfileError(ErrorCodes.Internal, String(e))
          setState((s) => ({ ...s, loading: false, error }))
        },
      )
    },
    [client, pageSize],
  )

  useEffect(() => {
    load(null)
    const off = onContactDeleted(client, () => load(null))
    return () => {
      off()
      generation.current += 1
    }
  }, [client, load])

  const loadMore = useCallback(() => {
    const { next, loading } = stateRef.current
    if (next !== null && !loading) load(next)
  }, [load])
  const refresh = useCallback(() => load(null), [load])

  return {
    items: state.items,
    loading: state.loading,
    error: state.error,
    hasMore: state.next !== null,
    loadMore,
    refresh,
  }
}
