import { useCallback, useEffect, useRef, useState } from 'react'
import { CardfileError, ErrorCodes, apiJson } from '@cardfile/core'
import type { ChannelId, IndexedContact } from '@cardfile/core'
import { useCardfileClient } from './context'
import { onContactDeleted } from './use-delete-contact'

/** A condition on one attribute value (see the server's `GET /contacts/search`). */
export type ContactSearchFilter =
  /** The value equals `value` exactly (a dropdown's option id). */
  | { readonly attributeId: string; readonly op: 'eq'; readonly value: string }
  /** The value contains `value`, ignoring case. */
  | { readonly attributeId: string; readonly op: 'contains'; readonly value: string }
  /** The value lies within inclusive bounds (as numbers when the bounds are numbers). */
  | {
      readonly attributeId: string
      readonly op: 'range'
      readonly min?: string
      readonly max?: string
    }

/** A contact search: words and filters (all must hold) and an order. */
export interface ContactSearch {
  /** Words to find in names, emails, phones, handles and attribute values (prefixes count). */
  readonly text?: string
  readonly channel?: ChannelId
  /** Only VIP contacts (true) or only others (false); refused while VIP is off. */
  readonly vip?: boolean
  readonly attributes?: readonly ContactSearchFilter[]
  /** `relevance` (default), `created`, `updated` or `name`. */
  readonly sort?: 'relevance' | 'created' | 'updated' | 'name'
}

/** A contact the search found, with its attribute values by attribute id. */
export interface ContactSearchHit extends IndexedContact {
  readonly values: Readonly<Record<string, string>>
}

export interface ContactSearchOptions {
  /** Results per page (1 to 200, default 20). */
  readonly pageSize?: number
  /**
   * How long the query must stay unchanged before it is sent, in ms (default 200), so typing
   * sends one request per pause rather than one per key.
   */
  readonly debounceMs?: number
}

/** What {@link useContactSearch} returns. */
export interface ContactSearchResult {
  /** The results loaded so far, in the server's order (those of the last answered query). */
  readonly items: readonly ContactSearchHit[]
  /** True while a query or a page is loading (or waiting out the debounce). */
  readonly loading: boolean
  /**
   * True while `items` belong to an earlier query than the current one: they stay on screen
   * until the new answer arrives, so results do not blink empty between keystrokes.
   */
  readonly stale: boolean
  readonly error: CardfileError | null
  /** More results exist beyond `items`. */
  readonly hasMore: boolean
  /** Loads the next page of the current query. */
  loadMore(): void
  /** Sends the current query again now. */
  refresh(): void
}

interface SearchAnswer {
  readonly items: ContactSearchHit[]
  readonly next: string | null
}

interface State {
  readonly items: readonly ContactSearchHit[]
  readonly next: string | null
  /** The query key `items` answer (null: none yet). */
  readonly answered: string | null
  readonly loading: boolean
  readonly error: CardfileError | null
}

const MAX_PAGE = 200

const asError = (e: unknown): CardfileError =>
  e instanceof CardfileError ? e : new CardfileError(ErrorCodes.Internal, String(e))

/**
 * The query string of a search (`q`, `channel`, `vip`, `attr.<id>`, `sort`), or null when it
 * asks nothing: no words and no filters, for which the hook sends no request.
 */
function searchParams(search: ContactSearch): string | null {
  const params = new URLSearchParams()
  const text = search.text?.trim() ?? ''
  if (text !== '') params.set('q', text)
  if (search.channel !== undefined) params.set('channel', search.channel)
  if (search.vip !== undefined) params.set('vip', String(search.vip))
  for (const f of search.attributes ?? []) {
    const key = `attr.${f.attributeId}`
    if (f.op === 'eq') params.append(key, f.value)
    else if (f.op === 'contains') params.append(`${key}.contains`, f.value)
    else {
      if (f.min !== undefined) params.append(`${key}.min`, f.min)
      if (f.max !== undefined) params.append(`${key}.max`, f.max)
    }
  }
  if ([...params.keys()].length === 0) return null
  if (search.sort !== undefined) params.set('sort', search.sort)
  return params.toString()
}

/**
 * Searches the workspace's contacts on the server's index as the user types: by words (a
 * string is the words alone) or a {@link ContactSearch} with filters and an order. Debounced
 * (`debounceMs`, default 200); while a new query loads, the previous results stay in `items`
 * with `stale` true; answers to superseded queries are dropped. An empty query lists nothing.
 * For agents and admins.
 *
 * @example
 * function SearchBox() {
 *   const [text, setText] = useState('')
 *   const { items, loading, stale, hasMore, loadMore } = useContactSearch(text)
 *   return (
 *     <>
 *       <input value={text} onChange={(e) => setText(e.target.value)} />
 *       <ul style={{ opacity: stale ? 0.5 : 1 }}>
 *         {items.map((c) => <li key={c.id}>{c.values.email_name ?? c.hint}</li>)}
 *       </ul>
 *       {hasMore && <button onClick={loadMore} disabled={loading}>More</button>}
 *     </>
 *   )
 * }
 *
 * @example
 * useContactSearch({ text: 'ann', channel: 'email', vip: true, sort: 'name' })
 */
export function useContactSearch(
  query: string | ContactSearch,
  options: ContactSearchOptions = {},
): ContactSearchResult {
  const client = useCardfileClient()
  const pageSize = Math.min(MAX_PAGE, Math.max(1, options.pageSize ?? 20))
  const debounceMs = Math.max(0, options.debounceMs ?? 200)
  // A string key, so a new object with the same search (a render's literal) changes nothing.
  const params = searchParams(typeof query === 'string' ? { text: query } : query)
  const key = params === null ? null : `${params}#${pageSize}`
  const [state, setState] = useState<State>({
    items: [],
    next: null,
    answered: null,
    loading: key !== null,
    error: null,
  })
  // Every request takes a number; an answer counts only while its number is the latest.
  const generation = useRef(0)
  const stateRef = useRef(state)
  stateRef.current = state

  const url = useCallback(
    (cursor: string | null): string =>
      `/api/${encodeURIComponent(client.workspace)}/contacts/search?${params ?? ''}&limit=${pageSize}${
        cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`
      }`,
    [client, params, pageSize],
  )

  const send = useCallback(() => {
    const mine = ++generation.current
    if (key === null) {
      setState({ items: [], next: null, answered: null, loading: false, error: null })
      return
    }
    setState((s) => (s.loading && s.error === null ? s : { ...s, loading: true, error: null }))
    apiJson<SearchAnswer>(client, url(null)).then(
      (answer) => {
        if (generation.current !== mine) return
        setState({
          items: answer.items,
          next: answer.next,
          answered: key,
          loading: false,
          error: null,
        })
      },
      (e: unknown) => {
        if (generation.current !== mine) return
        setState((s) => ({ ...s, loading: false, error: asError(e) }))
      },
    )
  }, [client, key, url])

  useEffect(() => {
    if (key === null) {
      send()
      return
    }
    // Loading from the first keystroke on, results of the last query kept meanwhile.
    generation.current += 1
    setState((s) => (s.loading && s.error === null ? s : { ...s, loading: true, error: null }))
    const timer = setTimeout(send, debounceMs)
    return () => {
      clearTimeout(timer)
      generation.current += 1
    }
  }, [key, send, debounceMs])

  // A contact deleted through this client leaves the results at once: the query runs again.
  useEffect(() => onContactDeleted(client, send), [client, send])

  const loadMore = useCallback(() => {
    const { next, loading, answered } = stateRef.current
    if (next === null || loading || answered !== key) return
    const mine = ++generation.current
    setState((s) => ({ ...s, loading: true, error: null }))
    apiJson<SearchAnswer>(client, url(next)).then(
      (answer) => {
        if (generation.current !== mine) return
        setState((s) => ({
          items: [...s.items, ...answer.items],
          next: answer.next,
          answered: key,
          loading: false,
          error: null,
        }))
      },
      (e: unknown) => {
        if (generation.current !== mine) return
        setState((s) => ({ ...s, loading: false, error: asError(e) }))
      },
    )
  }, [client, key, url])

  const stale = key !== null && state.answered !== null && state.answered !== key
  return {
    items: key === null ? [] : state.items,
    loading: key !== null && state.loading,
    stale,
    error: state.error,
    hasMore: !stale && state.next !== null,
    loadMore,
    refresh: send,
  }
}
