import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { CardfileError, ErrorCodes, ListStore } from '../src/index'
import type {
  ListChannel,
  ListQuery,
  ListSubscriptionHandlers,
  VisibilitySource,
} from '../src/index'

/** A channel the test drives: it records subscriptions and says what the server would. */
class TestChannel implements ListChannel {
  isOpen = true
  readonly subs: { query: ListQuery; handlers: ListSubscriptionHandlers; ended: boolean }[] = []
  open(): boolean {
    return this.isOpen
  }
  subscribe(query: ListQuery, handlers: ListSubscriptionHandlers): () => void {
    const sub = { query, handlers, ended: false }
    this.subs.push(sub)
    return () => {
      sub.ended = true
    }
  }
  live() {
    return this.subs.filter((s) => !s.ended)
  }
  activate() {
    for (const s of this.live()) s.handlers.state('active', null)
  }
  invalidate() {
    for (const s of this.live()) s.handlers.invalidated(null)
  }
  drop() {
    this.isOpen = false
    for (const s of this.live()) s.handlers.state('lost', null)
  }
}

class TestVisibility implements VisibilitySource {
  isHidden = false
  private readonly listeners = new Set<() => void>()
  hidden(): boolean {
    return this.isHidden
  }
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
  set(hidden: boolean) {
    this.isHidden = hidden
    for (const l of this.listeners) l()
  }
}

/** A server stand-in: answers pages of `rows` and counts requests. */
function fakeServer(initial: { id: string }[]) {
  const server = {
    rows: initial,
    requests: [] as string[],
    fetch: async (path: string): Promise<unknown> => {
      server.requests.push(path)
      const url = new URL(path, 'http://x')
      const limit = Number(url.searchParams.get('limit'))
      const cursor = url.searchParams.get('cursor')
      const start = cursor === null ? 0 : server.rows.findIndex((r) => r.id > cursor)
      const items = server.rows.slice(
        start < 0 ? server.rows.length : start,
        (start < 0 ? server.rows.length : start) + limit,
      )
      const last = items.at(-1)
      const more = last !== undefined && server.rows.at(-1)?.id !== last.id
      return { items, next: more ? last.id : null, extra: 'x' }
    },
  }
  return server
}

const QUEUE: ListQuery = { kind: 'queue', team: 'billing' }
const rows = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: `r${String(i).padStart(3, '0')}` }))

let store: ListStore
afterEach(() => {
  store?.destroy()
  vi.useRealTimers()
})

describe('the list store', () => {
  let channel: TestChannel
  let visibility: TestVisibility
  let server: ReturnType<typeof fakeServer>
  beforeEach(() => {
    channel = new TestChannel()
    visibility = new TestVisibility()
    server = fakeServer(rows(3))
    store = new ListStore({
      workspace: 'demo',
      fetch: server.fetch,
      channel,
      visibility,
      pollMs: 60_000,
    })
  })

  it('shares one entry and one fetch between every observer of a query', async () => {
    const a = vi.fn()
    const b = vi.fn()
    store.observe(QUEUE, 50, a)
    store.observe(QUEUE, 50, b)
    channel.activate()
    await vi.waitFor(() => expect(store.state(QUEUE, 50).items).toHaveLength(3))
    expect(server.requests).toEqual(['/api/demo/queue?team=billing&limit=50'])
    expect(channel.subs).toHaveLength(1)
    expect(a).toHaveBeenCalled()
    expect(b).toHaveBeenCalled()
  })

  it('waits for the subscription to be active on an open socket, so a mount costs one fetch', async () => {
    store.observe(QUEUE, 50, () => undefined)
    expect(server.requests).toHaveLength(0)
    channel.activate()
    await vi.waitFor(() => expect(store.state(QUEUE, 50).fetchedAt).toBeGreaterThan(0))
    expect(server.requests).toHaveLength(1)
  })

  it('fetches at once when the socket is not open, and again once push is active', async () => {
    channel.isOpen = false
    store.observe(QUEUE, 50, () => undefined)
    expect(server.requests).toHaveLength(1)
    await vi.waitFor(() => expect(store.state(QUEUE, 50).fetchedAt).toBeGreaterThan(0))
    channel.isOpen = true
    channel.activate()
    await vi.waitFor(() => expect(server.requests).toHaveLength(2))
    expect(store.state(QUEUE, 50).push).toBe('active')
  })

  it('keeps showing the items while it fetches an invalidated list again', async () => {
    store.observe(QUEUE, 50, () => undefined)
    channel.activate()
    await vi.waitFor(() => expect(store.state(QUEUE, 50).items).toHaveLength(3))
    server.rows = rows(4)
    channel.invalidate()
    const during = store.state(QUEUE, 50)
    expect(during.refreshing).toBe(true)
    expect(during.loading).toBe(false)
    expect(during.items).toHaveLength(3)
    await vi.waitFor(() => expect(store.state(QUEUE, 50).items).toHaveLength(4))
    expect(store.state(QUEUE, 50).answer).toMatchObject({ extra: 'x' })
  })

  it('shows a pushed conversation row at once, before the refetch answers, and keeps it', async () => {
    const queue = { kind: 'queue', team: null } as const
    const conv = (id: string, createdAt: number) => ({
      id,
      contactId: 'c1',
      status: 'new',
      team: null,
      priority: 0,
      createdAt,
    })
    let answer: unknown = { items: [conv('a', 1)], next: null }
    let release: (() => void) | null = null
    store = new ListStore({
      workspace: 'demo',
      channel,
      visibility,
      fetch: async () => {
        const now = answer
        await new Promise<void>((resolve) => (release = resolve))
        return now
      },
    })
    store.observe(queue, 50, () => undefined)
    channel.activate()
    await vi.waitFor(() => expect(release).not.toBeNull())
    release!()
    await vi.waitFor(() => expect(store.state(queue, 50).items).toHaveLength(1))
    release = null
    // A refetch is on its way (another change) when the row is pushed: the row shows at once.
    channel.invalidate()
    await vi.waitFor(() => expect(release).not.toBeNull())
    const stale = release!
    release = null
    for (const s of channel.live()) s.handlers.invalidated(conv('b', 2))
    expect(store.state<{ id: string }>(queue, 50).items.map((r) => r.id)).toEqual(['a', 'b'])
    // That refetch answers from before the row's commit: the row stays shown.
    answer = { items: [conv('a', 1), conv('b', 2)], next: null }
    stale()
    await vi.waitFor(() => expect(release).not.toBeNull())
    expect(store.state<{ id: string }>(queue, 50).items.map((r) => r.id)).toEqual(['a', 'b'])
    // And the refetch asked for with the row confirms it.
    release!()
    await vi.waitFor(() => expect(store.state(queue, 50).refreshing).toBe(false))
    expect(store.state<{ id: string }>(queue, 50).items.map((r) => r.id)).toEqual(['a', 'b'])
  })

  it('coalesces invalidations that arrive during a fetch into one more fetch', async () => {
    store.observe(QUEUE, 50, () => undefined)
    channel.activate()
    channel.invalidate()
    channel.invalidate()
    channel.invalidate()
    await vi.waitFor(() => expect(store.state(QUEUE, 50).refreshing).toBe(false))
    await vi.waitFor(() => expect(server.requests).toHaveLength(2))
  })

  it('fetches nothing while the page is hidden and catches up once it is visible', async () => {
    store.observe(QUEUE, 50, () => undefined)
    channel.activate()
    await vi.waitFor(() => expect(server.requests).toHaveLength(1))
    visibility.set(true)
    channel.invalidate()
    channel.invalidate()
    expect(server.requests).toHaveLength(1)
    visibility.set(false)
    await vi.waitFor(() => expect(server.requests).toHaveLength(2))
    // Nothing changed while visible: becoming visible again costs nothing.
    visibility.set(true)
    visibility.set(false)
    expect(server.requests).toHaveLength(2)
  })

  it('fetches again after a reconnect, when push is active again', async () => {
    store.observe(QUEUE, 50, () => undefined)
    channel.activate()
    await vi.waitFor(() => expect(server.requests).toHaveLength(1))
    channel.drop()
    expect(store.state(QUEUE, 50).push).toBe('lost')
    channel.isOpen = true
    channel.activate()
    await vi.waitFor(() => expect(server.requests).toHaveLength(2))
  })

  it('ends a list whose contact was deleted: its items are dropped and it is not fetched again', async () => {
    const linked: ListQuery = { kind: 'linked', contactId: 'c1' }
    store.observe(linked, 50, () => undefined)
    channel.activate()
    await vi.waitFor(() => expect(store.state(linked, 50).items).toHaveLength(3))
    channel.live()[0]!.handlers.state('ended', new CardfileError(ErrorCodes.Deleted, 'gone'))
    expect(store.state(linked, 50)).toMatchObject({ items: [], push: 'ended' })
    expect(store.state(linked, 50).error?.code).toBe('deleted')
    store.refresh(linked, 50)
    expect(server.requests).toHaveLength(1)
  })

  it('shows a row once when it moved to a later page between two page fetches', async () => {
    // The row b is on page 1, then moves behind the cursor: page 2 answers it again.
    const pages: Record<string, unknown> = {
      first: { items: [{ id: 'a' }, { id: 'b' }], next: 'b' },
      second: { items: [{ id: 'b' }, { id: 'c' }], next: null },
    }
    const requests: string[] = []
    store = new ListStore({
      workspace: 'demo',
      channel: null,
      visibility,
      fetch: async (path) => {
        requests.push(path)
        return path.includes('cursor=') ? pages.second : pages.first
      },
    })
    store.observe(QUEUE, 2, () => undefined)
    await vi.waitFor(() => expect(store.state(QUEUE, 2).items).toHaveLength(2))
    store.loadMore(QUEUE, 2)
    await vi.waitFor(() => expect(store.state(QUEUE, 2).hasMore).toBe(false))
    expect(store.state<{ id: string }>(QUEUE, 2).items.map((r) => r.id)).toEqual(['a', 'b', 'c'])
    // A refresh fetches everything loaded from the start, in one request.
    store.refresh(QUEUE, 2)
    await vi.waitFor(() => expect(requests).toHaveLength(3))
    expect(requests[2]).toBe('/api/demo/queue?team=billing&limit=3')
  })
})

describe('the list store without push', () => {
  it('polls at the fallback interval only while push is unavailable', async () => {
    vi.useFakeTimers()
    const channel = new TestChannel()
    channel.isOpen = false
    const server = fakeServer(rows(1))
    store = new ListStore({ workspace: 'demo', fetch: server.fetch, channel, pollMs: 60_000 })
    store.observe(QUEUE, 50, () => undefined)
    expect(server.requests).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(59_000)
    expect(server.requests).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(server.requests).toHaveLength(2)
    // Push comes back: one fetch for what was missed, then no more polling.
    channel.isOpen = true
    channel.activate()
    await vi.advanceTimersByTimeAsync(0)
    expect(server.requests).toHaveLength(3)
    await vi.advanceTimersByTimeAsync(600_000)
    expect(server.requests).toHaveLength(3)
  })

  it('keeps polling through a long outage in which every reconnect attempt fails', async () => {
    vi.useFakeTimers()
    const channel = new TestChannel()
    const server = fakeServer(rows(1))
    store = new ListStore({ workspace: 'demo', fetch: server.fetch, channel, pollMs: 10_000 })
    store.observe(QUEUE, 50, () => undefined)
    channel.activate()
    await vi.advanceTimersByTimeAsync(0)
    expect(server.requests).toHaveLength(1)
    channel.drop()
    // The socket retries every 3 s and fails: `lost` again each time.
    for (let t = 0; t < 7; t++) {
      await vi.advanceTimersByTimeAsync(3000)
      for (const s of channel.live()) s.handlers.state('lost', null)
    }
    expect(server.requests).toHaveLength(3)
  })

  it('polls a list the server refused to push, and never while hidden', async () => {
    vi.useFakeTimers()
    const channel = new TestChannel()
    const visibility = new TestVisibility()
    const server = fakeServer(rows(1))
    store = new ListStore({
      workspace: 'demo',
      fetch: server.fetch,
      channel,
      visibility,
      pollMs: 1000,
    })
    store.observe({ kind: 'deleted-contacts' }, 50, () => undefined)
    channel.live()[0]!.handlers.state('refused', new CardfileError(ErrorCodes.Forbidden, 'no'))
    await vi.advanceTimersByTimeAsync(0)
    expect(server.requests).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1000)
    expect(server.requests).toHaveLength(2)
    visibility.set(true)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(server.requests).toHaveLength(2)
    visibility.set(false)
    await vi.advanceTimersByTimeAsync(0)
    expect(server.requests).toHaveLength(3)
  })

  it('ends the push subscription when the last observer leaves', () => {
    const channel = new TestChannel()
    store = new ListStore({ workspace: 'demo', fetch: fakeServer([]).fetch, channel })
    const stopA = store.observe(QUEUE, 50, () => undefined)
    const stopB = store.observe(QUEUE, 50, () => undefined)
    stopA()
    expect(channel.live()).toHaveLength(1)
    stopB()
    expect(channel.live()).toHaveLength(0)
  })
})
