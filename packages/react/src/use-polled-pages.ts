import { useCallback, useEffect, useRef, useState } from 'react'
import { CardfileError, ErrorCodes, apiJson, contactDocName } from '@cardfile/core'
import type { CardfileClient, DocHandle } from '@cardfile/core'
import { useCardfileClient } from './context'
import { onLinksChanged } from './link-events'
import { onContactDeleted } from './use-delete-contact'

/** Options shared by the paginated, live list hooks. */
export interface LiveListOptions {
  /** Items per page (1 to 200, default 50). */
  readonly pageSize?: number
  /**
   * How often the loaded pages are fetched again, in ms (default 5000; 0 turns polling off).
   * The lists are answered by the server's index, which no document open on the client holds,
   * so polling is what keeps them live. The contact lists also refresh at once when the
   * contact's document changes while this client has it open (whoever opened it, whenever),
   * and after a link change or a deletion made through this client.
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
  /** True while a page is loading (the first one included). */
  readonly loading: boolean
  readonly error: CardfileError | null
  /** More items exist beyond `items`. */
  readonly hasMore: boolean
  /** Loads the next page. */
  loadMore(): void
  /** Fetches the loaded pages again now. */
  refresh(): void
}

interface Page<T> {
  readonly items: T[]
  readonly next: string | null
}

interface State<T, P> {
  readonly items: readonly T[]
  readonly next: string | null
  readonly loading: boolean
  readonly error: CardfileError | null
  /** The last answer, for the extra fields some endpoints send beside the page. */
  readonly answer: P | null
}

const MAX_PAGE = 200

const asError = (e: unknown): CardfileError =>
  e instanceof CardfileError ? e : new CardfileError(ErrorCodes.Internal, String(e))

const pageUrl = (
  client: CardfileClient,
  path: string,
  cursor: string | null,
  limit: number,
): string => {
  const sep = path.includes('?') ? '&' : '?'
  const query = `limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`
  return `/api/${encodeURIComponent(client.workspace)}${path}${sep}${query}`
}

const fetchFirst = <P>(client: CardfileClient, path: string, limit: number): Promise<P> =>
  apiJson<P>(client, pageUrl(client, path, null, limit))

/**
 * The Suspense step of a list: the first page shared through the client (a suspended component
 * keeps no state of its own), thrown as a promise while it loads and as a CardfileError when
 * it failed.
 */
function firstPage<T, P extends Page<T>>(
  client: CardfileClient,
  key: string,
  load: () => Promise<P>,
): P {
  const request = client.sharedRequest(`list:${key}`, load)
  if (request.status === 'pending') throw request.promise
  if (request.status === 'rejected') throw asError(request.error)
  return request.value as P
}

/**
 * A paginated list from the workspace's HTTP API (`path` relative to `/api/<workspace>`, null
 * to load nothing), kept live by polling, by changes of `watchContact`'s document while the
 * client has it open, and (`watchLinks`) by link changes and deletions made on this client.
 * A refresh fetches as many items as are loaded, from the start, in one request.
 */
export function useLiveList<T, P extends Page<T> = Page<T>>(
  path: string | null,
  options: LiveListOptions & {
    /** Refresh at once when this contact's document changes on this client. */
    readonly watchContact?: string
    /** Refresh at once after links or deletions made through this client. */
    readonly watchLinks?: boolean
  } = {},
): LiveListResult<T> & { readonly answer: P | null } {
  const client = useCardfileClient()
  const pageSize = Math.min(MAX_PAGE, Math.max(1, options.pageSize ?? 50))
  const pollMs = options.pollMs ?? 5000
  const listKey = `${path ?? ''}#${pageSize}`
  // The first page a suspended render waited for; its effect keeps it instead of reloading.
  const seeded = useRef<string | null>(null)
  // Only a mount suspends: once shown, a list never falls back to the Suspense fallback.
  const committed = useRef(false)
  const first =
    options.suspense === true && path !== null && !committed.current
      ? firstPage<T, P>(client, listKey, () => fetchFirst<P>(client, path, pageSize))
      : null
  const [state, setState] = useState<State<T, P>>(() =>
    first === null
      ? { items: [], next: null, loading: path !== null, error: null, answer: null }
      : { items: first.items, next: first.next, loading: false, error: null, answer: first },
  )
  if (first !== null) seeded.current = listKey
  // Lets devtools (client.inspect()) list what is kept live on screen.
  useEffect(() => (path === null ? undefined : client.trackList(path)), [client, path])
  const generation = useRef(0)
  const stateRef = useRef(state)
  stateRef.current = state

  const fetchPage = useCallback(
    (cursor: string | null, limit: number): Promise<P> =>
      apiJson<P>(client, pageUrl(client, path ?? '', cursor, limit)),
    [client, path],
  )

  /** Loads from the start: `limit` items (the loaded count on a refresh). */
  const reload = useCallback(
    (limit: number, quiet: boolean) => {
      if (path === null) return
      const mine = ++generation.current
      if (!quiet) setState((s) => ({ ...s, loading: true, error: null }))
      fetchPage(null, limit).then(
        (answer) => {
          if (generation.current !== mine) return
          setState({ items: answer.items, next: answer.next, loading: false, error: null, answer })
        },
        (e: unknown) => {
          if (generation.current !== mine) return
          setState((s) => ({ ...s, loading: false, error: asError(e) }))
        },
      )
    },
    [fetchPage, path],
  )

  useEffect(() => {
    generation.current += 1
    committed.current = true
    // Polling and watches keep a suspended first page fresh; reloading now would only repeat it.
    if (seeded.current === listKey) return
    setState({ items: [], next: null, loading: path !== null, error: null, answer: null })
    reload(pageSize, false)
    return () => {
      generation.current += 1
    }
  }, [reload, pageSize, path, listKey])

  const refresh = useCallback(() => {
    const loaded = stateRef.current.items.length
    reload(Math.min(MAX_PAGE, Math.max(pageSize, loaded)), true)
  }, [reload, pageSize])

  useEffect(() => {
    if (pollMs <= 0 || path === null) return
    const timer = setInterval(refresh, pollMs)
    return () => clearInterval(timer)
  }, [refresh, pollMs, path])

  // A change of the contact's document (its value of the matching attribute, its VIP flag) may
  // change the list: refresh once the burst of changes is over. The document is followed
  // whenever this client has it open, whoever opened it: the client says when documents open
  // and close, so the order in which components mount does not matter, and this hook never
  // opens (or leaks) a document of its own.
  const watch = options.watchContact
  useEffect(() => {
    if (watch === undefined) return
    const name = contactDocName(client.workspace, watch)
    let timer: ReturnType<typeof setTimeout> | null = null
    const later = (): void => {
      if (timer !== null) clearTimeout(timer)
      timer = setTimeout(refresh, 250)
    }
    let doc: DocHandle['doc'] | null = null
    const follow = (): void => {
      const next = client.peek(name)?.doc ?? null
      if (next === doc) return
      doc?.off('update', later)
      doc = next
      doc?.on('update', later)
    }
    follow()
    const off = client.subscribe(follow)
    return () => {
      off()
      doc?.off('update', later)
      if (timer !== null) clearTimeout(timer)
    }
  }, [client, watch, refresh])

  // Links and deletions made through this client change groups no open document shows.
  const watchLinks = options.watchLinks ?? false
  useEffect(() => {
    if (!watchLinks || path === null) return
    const offLinks = onLinksChanged(client, refresh)
    const offDeleted = onContactDeleted(client, refresh)
    return () => {
      offLinks()
      offDeleted()
    }
  }, [client, watchLinks, path, refresh])

  const loadMore = useCallback(() => {
    const { next, loading } = stateRef.current
    if (next === null || loading) return
    const mine = ++generation.current
    setState((s) => ({ ...s, loading: true, error: null }))
    fetchPage(next, pageSize).then(
      (answer) => {
        if (generation.current !== mine) return
        setState((s) => ({
          items: [...s.items, ...answer.items],
          next: answer.next,
          loading: false,
          error: null,
          answer,
        }))
      },
      (e: unknown) => {
        if (generation.current !== mine) return
        setState((s) => ({ ...s, loading: false, error: asError(e) }))
      },
    )
  }, [fetchPage, pageSize])

  return {
    items: state.items,
    loading: state.loading,
    error: state.error,
    hasMore: state.next !== null,
    answer: state.answer,
    loadMore,
    refresh,
  }
}
