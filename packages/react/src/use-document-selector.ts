import { useCallback, useRef, useSyncExternalStore } from 'react'
import type { CardfileClient, DocHandle } from '@cardfile/core'
import { useCardfileClient } from './context'
import { replaceEqualDeep } from './replace-equal-deep'

/** How a hook reaches its document: open it (owning a reference) or peek at it (borrowing). */
export interface DocumentAccess<H extends DocHandle> {
  /** Identifies the document(s); a change re-subscribes. */
  readonly key: string
  readonly acquire: (client: CardfileClient) => H
  readonly peek: (client: CardfileClient) => H | null
  /** Changes whenever what `select` reads may have changed. */
  readonly version: (handle: H) => string
}

interface Cache<T> {
  readonly select: unknown
  readonly handle: DocHandle | null
  readonly version: string
  readonly actor: unknown
  readonly value: T
}

/**
 * The bridge from a Cardfile document to React: `useSyncExternalStore` with a selector,
 * structural sharing and a per-version cache, so `getSnapshot` is stable between changes and a
 * component re-renders only when what it selected changes.
 *
 * The document is opened in `subscribe` (an effect) and released in its cleanup, never during
 * render: StrictMode's mount/unmount/mount reuses the replica (the client keeps a released
 * document open briefly) and nothing leaks after the last unmount.
 */
export function useDocumentSelector<H extends DocHandle, T>(
  access: DocumentAccess<H> | null,
  select: (handle: H | null, client: CardfileClient) => T,
  equal?: (a: T, b: T) => boolean,
): T {
  const client = useCardfileClient()
  const selectRef = useRef(select)
  const equalRef = useRef(equal)
  const accessRef = useRef(access)
  // Always the latest functions: setters and selectors never close over stale state.
  selectRef.current = select
  equalRef.current = equal
  accessRef.current = access
  const cache = useRef<Cache<T> | null>(null)
  const serverCache = useRef<{ value: T } | null>(null)

  const key = access?.key ?? null
  const subscribe = useCallback(
    (onChange: () => void) => {
      const current = accessRef.current
      const handle = current === null ? null : current.acquire(client)
      const offDoc = handle?.subscribe(onChange)
      const offClient = client.subscribe(onChange)
      return () => {
        offDoc?.()
        offClient()
        handle?.release()
      }
    },
    // `key` names the document: a new key means another document, so re-subscribe.
    [client, key],
  )

  const getSnapshot = (): T => {
    const current = accessRef.current
    const handle = current === null ? null : current.peek(client)
    const version = handle === null || current === null ? '' : current.version(handle)
    const actor = client.actor()
    const prev = cache.current
    const select = selectRef.current
    // A new selector (new props such as another channel) recomputes even at the same version;
    // structural sharing below still returns the previous value when nothing differs.
    if (
      prev !== null &&
      prev.select === select &&
      prev.handle === handle &&
      prev.version === version &&
      prev.actor === actor
    ) {
      return prev.value
    }
    const next = select(handle, client)
    let value: T
    if (prev === null) value = next
    else if (equalRef.current !== undefined)
      value = equalRef.current(prev.value, next) ? prev.value : next
    else value = replaceEqualDeep(prev.value, next)
    cache.current = { select, handle, version, actor, value }
    return value
  }

  const getServerSnapshot = (): T => {
    serverCache.current ??= { value: selectRef.current(null, client) }
    return serverCache.current.value
  }

  return useSyncExternalStore(subscribe, getSnapshot, getServerSnapshot)
}
