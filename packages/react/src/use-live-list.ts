import { useCallback, useEffect, useMemo, useRef, useSyncExternalStore } from 'react'
import { listQueryKey, listQueryPath } from '@cardfile/core'
import type { CardfileError, ListPushState, ListQuery, ListState } from '@cardfile/core'
import { useCardfileClient } from './context'
import { onLinksChanged } from './link-events'
import { onContactDeleted } from './use-delete-contact'

/** Options shared by the paginated, live list hooks. */
export interface LiveListOptions {
  /** Items per page (1 to 200, default 50). */
  readonly pageSize?: number
  /**
   * Kept for compatibility and ignored: lists are pushed by the server, and fetched again only
   * when they change. While push is unavailable the client polls them every `listPollMs`
   * (an option of `createCardfileClient`, default two minutes).
   *
   * @deprecated Set `listPollMs` on the client instead.
   */
  readonly pollMs?: number
  /**
   * Suspend until the first page has loaded (for the nearest `<Suspense>`), and throw its
   * CardfileError to the nearest error boundary when it fails, instead of starting with
   * `loading` true. Only the first page of a mount suspends; `loadMore`, refreshes and a new
   * contact id load with `loading` as usual.
   *
   * @example
   * function VipCount() {
   *   const { items } = useContactGroup('vip', { suspense: true })
   *   return <span>{items.length}</span>
   * }
   * // <Suspense fallback={<Spinner />}><VipCount /></Suspense>
   */
  readonly suspense?: boolean
}

/** What the live list hooks return. */
export interface LiveListResult<T> {
  /** Items loaded so far, in the server's order. */
  readonly items: readonly T[]
  /** True while the first page or a further page is loading (not during a background refresh). */
  readonly loading: boolean
  readonly error: CardfileError | null
  /** More items exist beyond `items`. */
  readonly hasMore: boolean
  /** Loads the next page. */
  loadMore(): void
  /** Fetches the loaded pages again now. */
  refresh(): void
}

/** What the live list bridge adds for the hooks built on it. */
export interface LiveListExtras<A> {
  /** The last answer fetched from the start (the fields routes send beside the page). */
  readonly answer: A | null
  /** Whether the server pushes this list's changes now (`none` before it subscribed). */
  readonly push: ListPushState | 'none'
  /** True while the loaded pages are fetched again in the background. */
  readonly refreshing: boolean
}

const NO_LIST: ListState = {
  items: [],
  answer: null,
  loading: false,
  refreshing: false,
  error: null,
  hasMore: false,
  fetchedAt: 0,
  push: 'none',
}

const noop = (): void => undefined

/** Queries a link or an erasure made through this client changes (push reports them too). */
const GROUP_KINDS: ReadonlySet<ListQuery['kind']> = new Set([
  'linked',
  'history',
  'links-log',
  'deleted-contacts',
  'vip',
  'contacts',
  'queue',
  'conversations',
])

/**
 * A list of the client's list store (`client.lists()`), null to show nothing: a
 * `useSyncExternalStore` bridge, so every component showing the same query shares one cache
 * and one fetch, and the list changes when the server pushes that it changed. Links and
 * deletions made through this client invalidate the lists they change at once, before the
 * server's word arrives.
 *
 * @example
 * function Queue({ team }: { team: string }) {
 *   const { items, hasMore, loadMore } = useLiveList<IndexedConversation>({ kind: 'queue', team })
 *   return <ul>{items.map((c) => <li key={c.id}>{c.id}</li>)}{hasMore && <button onClick={loadMore}>More</button>}</ul>
 * }
 */
export function useLiveList<T, A = unknown>(
  query: ListQuery | null,
  options: LiveListOptions = {},
): LiveListResult<T> & LiveListExtras<A> {
  const client = useCardfileClient()
  const store = client.lists()
  const pageSize = Math.min(200, Math.max(1, options.pageSize ?? 50))
  const key = query === null ? null : listQueryKey(query)
  // One query object per key: a caller's inline object literal does not resubscribe.
  const stable = useMemo(() => query, [key])

  const subscribe = useCallback(
    (onChange: () => void) => (stable === null ? noop : store.observe(stable, pageSize, onChange)),
    [store, stable, pageSize],
  )
  const snapshot = (): ListState => (stable === null ? NO_LIST : store.state(stable, pageSize))
  const state = useSyncExternalStore(subscribe, snapshot, snapshot)

  // Only a mount suspends: once shown, a list never falls back to the Suspense fallback.
  const committed = useRef(false)
  if (options.suspense === true && stable !== null && !committed.current && state.fetchedAt === 0) {
    if (state.error !== null) throw state.error
    // Thrown by render, awaited by Suspense; a failure is read from the store on the retry.
    throw store.prefetch(stable, pageSize).catch(() => undefined)
  }
  useEffect(() => {
    committed.current = true
  }, [])

  // Lets devtools (client.inspect()) list what is kept live on screen.
  useEffect(
    () => (stable === null ? undefined : client.trackList(listQueryPath(stable))),
    [client, stable],
  )

  // Own links and deletions: refresh at once rather than after the push round trip.
  useEffect(() => {
    if (stable === null || !GROUP_KINDS.has(stable.kind)) return
    const refresh = () => store.refresh(stable, pageSize)
    const offLinks = onLinksChanged(client, refresh)
    const offDeleted = onContactDeleted(client, refresh)
    return () => {
      offLinks()
      offDeleted()
    }
  }, [client, store, stable, pageSize])

  const loadMore = useCallback(() => {
    if (stable !== null) store.loadMore(stable, pageSize)
  }, [store, stable, pageSize])
  const refresh = useCallback(() => {
    if (stable !== null) store.refresh(stable, pageSize)
  }, [store, stable, pageSize])

  return {
    items: state.items as readonly T[],
    loading: state.loading,
    refreshing: state.refreshing,
    error: state.error,
    hasMore: state.hasMore,
    answer: state.answer as A | null,
    push: state.push,
    loadMore,
    refresh,
  }
}
