import { useCallback, useEffect, useRef, useState } from 'react'

/** What {@link usePolled} returns. */
export interface Polled<T> {
  readonly data: T | null
  readonly error: Error | null
  /** Fetches again now (after a change this screen made). */
  readonly refresh: () => void
}

/**
 * Keeps the result of `load` fresh by fetching it every `intervalMs` while the tab is visible,
 * and when `key` changes. Lists come from the server's index, which follows every document
 * change; polling is the simplest honest way to follow it.
 */
export function usePolled<T>(key: string, load: () => Promise<T>, intervalMs: number): Polled<T> {
  const [state, setState] = useState<{ key: string; data: T | null; error: Error | null }>({
    key,
    data: null,
    error: null,
  })
  const loadRef = useRef(load)
  loadRef.current = load
  const [tick, setTick] = useState(0)
  const refresh = useCallback(() => setTick((t) => t + 1), [])

  useEffect(() => {
    let stopped = false
    let timer: ReturnType<typeof setTimeout> | null = null
    const run = async (): Promise<void> => {
      try {
        const data = await loadRef.current()
        if (!stopped) setState({ key, data, error: null })
      } catch (error) {
        if (!stopped) {
          setState((s) => ({
            key,
            data: s.key === key ? s.data : null,
            error: error instanceof Error ? error : new Error(String(error)),
          }))
        }
      }
      if (!stopped) timer = setTimeout(() => void run(), intervalMs)
    }
    void run()
    return () => {
      stopped = true
      if (timer !== null) clearTimeout(timer)
    }
  }, [key, intervalMs, tick])

  return {
    data: state.key === key ? state.data : null,
    error: state.key === key ? state.error : null,
    refresh,
  }
}
