import { useCallback, useEffect, useRef, useState } from 'react'
import { CardfileError, ErrorCodes, apiJson } from '@cardfile/core'
import { useCardfileClient } from './context'

/** Options shared by the paginated, live list hooks. */
export interface LiveListOptions {
  /** Items per page (1 to 200, default 50). */
  readonly pageSize?: number
  /**
   * How often the loaded pages are fetched again, in ms (default 5000; 0 turns polling off).
   * The lists are answered by the server's index, which no document open on the client holds,
   * so polling is what keeps them live; they also refresh at once when a contact document the
   * client has open changes.
   */
  readonly pollMs?: number
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

/**
 * A paginated list from the workspace's HTTP API (`path` relative to `/api/<workspace>`, null
 * to load nothing), kept live by polling and by changes of `watchContact`'s open document.
 * A refresh fetches as many items as are loaded, from the start, in one request.
 */
export function useLiveList<T, P extends Page<T> = Page<T>>(
  path: string | null,
  options: LiveListOptions & { readonly watchContact?: string } = {},
): LiveListResult<T> & { readonly answer: P | null } {
  const client = useCardfileClient()
  const pageSize = Math.min(MAX_PAGE, Math.max(1, options.pageSize ?? 50))
  const pollMs = options.pollMs ?? 5000
  const [state, setState] = useState<State<T, P>>({
    items: [],
    next: null,
    loading: path !== null,
    error: null,
    answer: null,
  })
  const generation = useRef(0)
  const stateRef = useRef(state)
  stateRef.current = state

  const fetchPage = useCallback(
    (cursor: string | null, limit: number): Promise<P> => {
      const sep = path?.includes('?') === true ? '&' : '?'
      const query = `limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`
      return apiJson<P>(
        client,
        `/api/${encodeURIComponent(client.workspace)}${path ?? ''}${sep}${query}`,
      )
    },
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
    setState({ items: [], next: null, loading: path !== null, error: null, answer: null })
    reload(pageSize, false)
    return () => {
      generation.current += 1
    }
  }, [reload, pageSize, path])

  const refresh = useCallback(() => {
    const loaded = stateRef.current.items.length
    reload(Math.min(MAX_PAGE, Math.max(pageSize, loaded)), true)
  }, [reload, pageSize])

  useEffect(() => {
    if (pollMs <= 0 || path === null) return
    const timer = setInterval(refresh, pollMs)
    return () => clearInterval(timer)
  }, [refresh, pollMs, path])

  // A change of the contact's open document (its value of the matching attribute, its VIP
  // flag) may change the list: refresh once the burst of changes is over.
  const watch = options.watchContact
  useEffect(() => {
    if (watch === undefined) return
    const handle = client.peekContact(watch)
    if (handle === null) return
    let timer: ReturnType<typeof setTimeout> | null = null
    const off = handle.subscribe(() => {
      if (timer !== null) clearTimeout(timer)
      timer = setTimeout(refresh, 250)
    })
    return () => {
      off()
      if (timer !== null) clearTimeout(timer)
    }
  }, [client, watch, refresh])

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
