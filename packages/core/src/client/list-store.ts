import { CardfileError, ErrorCodes } from '../errors'
import { listQueryKey, listQueryPath } from '../list-queries'
import type { ListQuery } from '../list-queries'
import type { ListChannel, ListPushState } from './list-channel'
import { applyConversationRow } from './list-deltas'

/** Most items one request may ask for (the HTTP API's page limit). */
export const MAX_LIST_PAGE = 200

/** How often a list is fetched again while push is unavailable, by default (2 minutes). */
export const DEFAULT_LIST_POLL_MS = 120_000

/** How long a list nobody observes keeps its cache, by default. */
const DEFAULT_GC_MS = 30_000

/** How long a first fetch waits for the subscription to become active on an open socket. */
const ACTIVE_WAIT_MS = 1000

/**
 * One list as the store holds it. A new object whenever anything in it changes, so it can be
 * a `useSyncExternalStore` snapshot as is.
 */
export interface ListState<T = unknown, A = unknown> {
  /** Items loaded so far, in the server's order (pages appended, duplicates dropped). */
  readonly items: readonly T[]
  /** The last answer fetched from the start, for the fields routes send beside the page. */
  readonly answer: A | null
  /** True while the first page or a further page loads. */
  readonly loading: boolean
  /** True while loaded pages are fetched again in the background (stale while revalidating). */
  readonly refreshing: boolean
  readonly error: CardfileError | null
  /** More items exist beyond `items`. */
  readonly hasMore: boolean
  /** When the loaded pages were last fetched (ms since epoch; 0: never). */
  readonly fetchedAt: number
  /** Whether the server pushes this list's changes right now (otherwise it is polled). */
  readonly push: ListPushState | 'none'
}

/** Whether the page is on screen: fetches wait while it is hidden. */
export interface VisibilitySource {
  hidden(): boolean
  /** Listens for changes of `hidden()`; returns the function that stops listening. */
  subscribe(listener: () => void): () => void
}

/** What the list store needs around it. */
export interface ListStoreOptions {
  /** The workspace the lists are of (their HTTP paths are under `/api/<workspace>`). */
  readonly workspace: string
  /** Fetches `path` (from `/api/...`) and resolves its JSON; rejects with a CardfileError. */
  fetch(path: string): Promise<unknown>
  /** Where push subscriptions go; absent: lists are only polled. */
  readonly channel?: ListChannel | null
  /** How often a list is fetched again while push is unavailable (default 2 minutes; 0: never). */
  readonly pollMs?: number
  /** Page visibility (default: `document.visibilityState` where there is a document). */
  readonly visibility?: VisibilitySource
  /** How long an unobserved list keeps its cache (default 30 s). */
  readonly gcMs?: number
}

/** The visibility of `document` where there is one; otherwise always visible. */
export function documentVisibility(): VisibilitySource {
  const doc = (globalThis as { document?: Document }).document
  if (doc === undefined || typeof doc.addEventListener !== 'function') {
    return { hidden: () => false, subscribe: () => () => undefined }
  }
  return {
    hidden: () => doc.visibilityState === 'hidden',
    subscribe(listener) {
      doc.addEventListener('visibilitychange', listener)
      return () => doc.removeEventListener('visibilitychange', listener)
    },
  }
}

interface Entry {
  readonly key: string
  readonly query: ListQuery
  readonly pageSize: number
  state: ListState
  readonly listeners: Set<() => void>
  next: string | null
  /** Ends the push subscription (null while nobody observes). */
  unsubscribe: (() => void) | null
  /** Bumped by every fetch from the start: older answers (and further pages) are dropped. */
  generation: number
  /** A fetch from the start is under way. */
  reloading: boolean
  /** Fetch from the start again once the one under way is done (it was invalidated meanwhile). */
  again: boolean
  /** Changed while hidden (or never fetched): fetch once visible. */
  stale: boolean
  /** A further page was asked for while a fetch from the start was under way. */
  moreAfterReload: boolean
  /** Rows pushed while a fetch from the start was under way: its answer may predate them. */
  rowsDuringReload: unknown[]
  pollTimer: ReturnType<typeof setTimeout> | null
  waitTimer: ReturnType<typeof setTimeout> | null
  gcTimer: ReturnType<typeof setTimeout> | null
  /** Resolves once the first fetch settled (what Suspense waits on). */
  first: Promise<void> | null
}

const INITIAL: ListState = {
  items: [],
  answer: null,
  loading: true,
  refreshing: false,
  error: null,
  hasMore: false,
  fetchedAt: 0,
  push: 'none',
}

const asError = (e: unknown): CardfileError =>
  e instanceof CardfileError ? e : new CardfileError(ErrorCodes.Internal, String(e))

const idOf = (item: unknown): unknown =>
  typeof item === 'object' && item !== null && 'id' in item
    ? (item as { id: unknown }).id
    : undefined

/** The page of an answer: its `items` (none for answers that are not pages, a job's view). */
const pageOf = (answer: unknown): { items: unknown[]; next: string | null } => {
  const a = answer as { items?: unknown; next?: unknown } | null
  return {
    items: Array.isArray(a?.items) ? (a.items as unknown[]) : [],
    next: typeof a?.next === 'string' ? a.next : null,
  }
}

/**
 * Appends `more` to `items`, leaving out rows already shown: a row that moved from a later page
 * to an earlier one between two page fetches is shown once, where it was first seen (the next
 * fetch from the start puts it in its place).
 */
const appendPage = (items: readonly unknown[], more: readonly unknown[]): unknown[] => {
  const seen = new Set<unknown>(items.map(idOf).filter((id) => id !== undefined))
  return [
    ...items,
    ...more.filter((item) => {
      const id = idOf(item)
      return id === undefined || !seen.has(id)
    }),
  ]
}

/**
 * The client's cache of server lists (queues, groups, histories, jobs), framework-free, in the
 * manner of TanStack's query cache: one entry per query and page size, shared by every
 * observer (one fetch however many components show it); stale while revalidating (a refetch
 * keeps the items on screen); fetched again when the server pushes an invalidation, when push
 * comes back after a reconnect, and, only while push is unavailable, every `pollMs`; never
 * fetched while the page is hidden (what changed meanwhile is fetched once it is visible).
 *
 * @example
 * const lists = client.lists()
 * const stop = lists.observe({ kind: 'queue', team: 'billing' }, 50, () => {
 *   render(lists.state({ kind: 'queue', team: 'billing' }, 50).items)
 * })
 */
export class ListStore {
  private readonly entries = new Map<string, Entry>()
  private readonly pollMs: number
  private readonly gcMs: number
  private readonly visibility: VisibilitySource
  private readonly stopVisibility: () => void
  private destroyed = false

  constructor(private readonly options: ListStoreOptions) {
    this.pollMs = options.pollMs ?? DEFAULT_LIST_POLL_MS
    this.gcMs = options.gcMs ?? DEFAULT_GC_MS
    this.visibility = options.visibility ?? documentVisibility()
    this.stopVisibility = this.visibility.subscribe(() => this.onVisibility())
  }

  /** The key of a query at a page size: one cache entry each. */
  static keyOf(query: ListQuery, pageSize: number): string {
    return `${listQueryKey(query)}#${pageSize}`
  }

  /**
   * The list's current state (a stable object between changes). Unknown lists read as loading
   * without fetching anything: `observe` is what starts work.
   */
  state<T = unknown, A = unknown>(query: ListQuery, pageSize: number): ListState<T, A> {
    const entry = this.entries.get(ListStore.keyOf(query, clampPage(pageSize)))
    return (entry?.state ?? INITIAL) as ListState<T, A>
  }

  /**
   * Observes a list: the first observer subscribes it for push and fetches it (unless a fresh
   * copy is cached); `listener` hears every change of its state. Returns the function that
   * stops observing; once nobody observes, the push subscription ends and the cache is kept
   * for a while for the next observer.
   */
  observe(query: ListQuery, pageSize: number, listener: () => void): () => void {
    const entry = this.entry(query, pageSize)
    entry.listeners.add(listener)
    if (entry.listeners.size === 1) this.start(entry)
    let observing = true
    return () => {
      if (!observing) return
      observing = false
      entry.listeners.delete(listener)
      if (entry.listeners.size === 0) this.stop(entry)
    }
  }

  /**
   * Resolves once the list has its first answer (fetching it when nobody did yet), so a
   * suspended render can wait for it; rejects with the fetch's CardfileError.
   *
   * @example
   * const state = lists.state(query, 50)
   * if (state.fetchedAt === 0 && state.error === null) throw lists.prefetch(query, 50)
   */
  prefetch(query: ListQuery, pageSize: number): Promise<void> {
    const entry = this.entry(query, pageSize)
    if (entry.first === null) {
      this.reload(entry)
      if (entry.listeners.size === 0) this.scheduleGc(entry)
    }
    return entry.first ?? Promise.resolve()
  }

  /** Fetches the loaded pages of a list again now (an explicit refresh: even when hidden). */
  refresh(query: ListQuery, pageSize: number): void {
    const entry = this.entries.get(ListStore.keyOf(query, clampPage(pageSize)))
    if (entry !== undefined) this.reload(entry)
  }

  /** Loads the next page of a list (nothing when there is none or a page is loading). */
  loadMore(query: ListQuery, pageSize: number): void {
    const entry = this.entries.get(ListStore.keyOf(query, clampPage(pageSize)))
    if (entry === undefined) return
    if (entry.reloading) {
      // The cursor is about to be replaced: the next page is asked for after the new one.
      entry.moreAfterReload = true
      return
    }
    if (entry.next === null || entry.state.loading) return
    const generation = entry.generation
    const cursor = entry.next
    this.set(entry, { loading: true, error: null })
    this.options.fetch(this.urlOf(entry, cursor, entry.pageSize)).then(
      (answer) => {
        if (entry.generation !== generation) return
        const page = pageOf(answer)
        entry.next = page.next
        this.set(entry, {
          items: appendPage(entry.state.items, page.items),
          hasMore: page.next !== null,
          loading: false,
        })
      },
      (e: unknown) => {
        if (entry.generation !== generation) return
        this.set(entry, { loading: false, error: asError(e) })
      },
    )
  }

  /**
   * Marks every list that matches `predicate` as changed: observed ones are fetched again (once
   * visible). For changes this client made itself that push also reports; safe to repeat.
   *
   * @example
   * lists.invalidate((q) => q.kind === 'linked' || q.kind === 'history')
   */
  invalidate(predicate: (query: ListQuery) => boolean): void {
    for (const entry of this.entries.values()) {
      if (predicate(entry.query)) this.invalidated(entry)
    }
  }

  /** Stops every timer and subscription (the client is destroyed). */
  destroy(): void {
    this.destroyed = true
    this.stopVisibility()
    for (const entry of this.entries.values()) {
      this.stop(entry)
      if (entry.gcTimer !== null) clearTimeout(entry.gcTimer)
    }
    this.entries.clear()
  }

  private entry(query: ListQuery, pageSize: number): Entry {
    const size = clampPage(pageSize)
    const key = ListStore.keyOf(query, size)
    let entry = this.entries.get(key)
    if (entry === undefined) {
      entry = {
        key,
        query,
        pageSize: size,
        state: INITIAL,
        listeners: new Set(),
        next: null,
        unsubscribe: null,
        generation: 0,
        reloading: false,
        again: false,
        stale: true,
        moreAfterReload: false,
        rowsDuringReload: [],
        pollTimer: null,
        waitTimer: null,
        gcTimer: null,
        first: null,
      }
      this.entries.set(key, entry)
    }
    if (entry.gcTimer !== null) {
      clearTimeout(entry.gcTimer)
      entry.gcTimer = null
    }
    return entry
  }

  private start(entry: Entry): void {
    if (this.destroyed) return
    const channel = this.options.channel ?? null
    if (channel !== null) {
      const wasOpen = channel.open()
      entry.unsubscribe = channel.subscribe(entry.query, {
        invalidated: (row) => {
          if (row !== null) this.applyRow(entry, row)
          this.invalidated(entry)
        },
        state: (push, error) => this.onPush(entry, push, error),
      })
      // On an open socket the subscription is active within a round trip: fetch then, once,
      // instead of now and again then. A list already cached is fetched then too.
      if (wasOpen && entry.state.push !== 'active') {
        entry.waitTimer = setTimeout(() => {
          entry.waitTimer = null
          if (entry.stale) this.fetchIfVisible(entry)
        }, ACTIVE_WAIT_MS)
        return
      }
    }
    if (entry.stale || entry.state.fetchedAt === 0) this.fetchIfVisible(entry)
    this.schedulePoll(entry)
  }

  private stop(entry: Entry): void {
    entry.unsubscribe?.()
    entry.unsubscribe = null
    if (entry.pollTimer !== null) clearTimeout(entry.pollTimer)
    if (entry.waitTimer !== null) clearTimeout(entry.waitTimer)
    entry.pollTimer = null
    entry.waitTimer = null
    if (entry.state.push !== 'none' && entry.state.push !== 'ended')
      this.set(entry, { push: 'none' })
    // Whatever is pushed while nobody observes is not heard: the next observer fetches.
    entry.stale = true
    if (!this.destroyed) this.scheduleGc(entry)
  }

  private scheduleGc(entry: Entry): void {
    if (entry.gcTimer !== null) clearTimeout(entry.gcTimer)
    entry.gcTimer = setTimeout(() => {
      entry.gcTimer = null
      if (entry.listeners.size === 0 && this.entries.get(entry.key) === entry) {
        this.entries.delete(entry.key)
      }
    }, this.gcMs)
  }

  private onPush(entry: Entry, push: ListPushState, error: CardfileError | null): void {
    if (push === 'ended') {
      // The contact is gone: what was shown of it goes too.
      entry.unsubscribe = null
      entry.generation += 1
      entry.next = null
      this.set(entry, {
        push,
        items: [],
        answer: null,
        hasMore: false,
        loading: false,
        refreshing: false,
        error,
      })
      if (entry.pollTimer !== null) clearTimeout(entry.pollTimer)
      entry.pollTimer = null
      return
    }
    if (entry.state.push !== push) this.set(entry, { push })
    if (push === 'active') {
      if (entry.waitTimer !== null) clearTimeout(entry.waitTimer)
      entry.waitTimer = null
      // Active from now on: anything committed before is in what this fetch answers (after a
      // reconnect, what was missed while the socket was down).
      this.invalidated(entry)
    } else if (push === 'refused') {
      entry.unsubscribe = null
      if (entry.stale) this.fetchIfVisible(entry)
    }
    // Each failed reconnect says `lost` again: a poll already counting down keeps its time, or a
    // long outage would push it back forever.
    if (push === 'active' || entry.pollTimer === null) this.schedulePoll(entry)
  }

  /** Shows a pushed row at once; the refetch that follows confirms the list. */
  private applyRow(entry: Entry, row: unknown): void {
    if (entry.state.fetchedAt === 0 || entry.state.push === 'ended') return
    const items = applyConversationRow(entry.query, entry.state.items, row, !entry.state.hasMore)
    if (items === null) return
    if (entry.reloading) entry.rowsDuringReload.push(row)
    this.set(entry, { items })
  }

  private invalidated(entry: Entry): void {
    entry.stale = true
    if (entry.listeners.size > 0) this.fetchIfVisible(entry)
  }

  private fetchIfVisible(entry: Entry): void {
    if (this.visibility.hidden() || this.destroyed) return
    this.reload(entry)
  }

  /** Polls while push is unavailable, and only then. */
  private schedulePoll(entry: Entry): void {
    if (entry.pollTimer !== null) clearTimeout(entry.pollTimer)
    entry.pollTimer = null
    const push = entry.state.push
    if (this.pollMs <= 0 || entry.listeners.size === 0 || push === 'active' || push === 'ended') {
      return
    }
    entry.pollTimer = setTimeout(() => {
      entry.pollTimer = null
      this.invalidated(entry)
      this.schedulePoll(entry)
    }, this.pollMs)
  }

  private onVisibility(): void {
    if (this.visibility.hidden()) return
    for (const entry of this.entries.values()) {
      if (entry.listeners.size > 0 && entry.stale && entry.waitTimer === null) this.reload(entry)
    }
  }

  /** Fetches as many items as are loaded, from the start, in one request. */
  private reload(entry: Entry): void {
    if (entry.state.push === 'ended') return
    if (entry.reloading) {
      entry.again = true
      return
    }
    entry.reloading = true
    entry.again = false
    entry.stale = false
    const generation = ++entry.generation
    const limit = Math.min(MAX_LIST_PAGE, Math.max(entry.pageSize, entry.state.items.length))
    const initial = entry.state.fetchedAt === 0
    this.set(entry, initial ? { loading: true } : { refreshing: true })
    const done = this.options.fetch(this.urlOf(entry, null, limit)).then(
      (answer) => {
        const page = pageOf(answer)
        entry.next = page.next
        // Rows pushed meanwhile stay shown until the next fetch, which was asked for with them.
        let items = page.items
        for (const row of entry.rowsDuringReload) {
          items = applyConversationRow(entry.query, items, row, page.next === null) ?? items
        }
        entry.rowsDuringReload = []
        this.set(entry, {
          items,
          answer,
          hasMore: page.next !== null,
          loading: false,
          refreshing: false,
          error: null,
          fetchedAt: Date.now(),
        })
      },
      (e: unknown) => {
        entry.rowsDuringReload = []
        this.set(entry, { loading: false, refreshing: false, error: asError(e) })
        throw e
      },
    )
    entry.first ??= done.then(
      () => undefined,
      (e: unknown) => {
        throw asError(e)
      },
    )
    entry.first.catch(() => undefined)
    done
      .catch(() => undefined)
      .finally(() => {
        entry.reloading = false
        if (entry.generation !== generation) return
        if (entry.again) {
          entry.again = false
          if (entry.listeners.size > 0) this.fetchIfVisible(entry)
          else entry.stale = true
        }
        if (entry.moreAfterReload && !entry.reloading) {
          entry.moreAfterReload = false
          this.loadMore(entry.query, entry.pageSize)
        }
      })
  }

  private urlOf(entry: Entry, cursor: string | null, limit: number): string {
    const path = listQueryPath(entry.query)
    const sep = path.includes('?') ? '&' : '?'
    const page = `limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`
    return `/api/${encodeURIComponent(this.options.workspace)}${path}${sep}${page}`
  }

  private set(entry: Entry, patch: Partial<ListState>): void {
    entry.state = { ...entry.state, ...patch }
    for (const listener of [...entry.listeners]) listener()
  }
}

function clampPage(pageSize: number): number {
  return Math.min(MAX_LIST_PAGE, Math.max(1, Math.floor(pageSize) || 1))
}
