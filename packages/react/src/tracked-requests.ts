import { useCallback, useEffect, useRef, useState } from 'react'
import type { CardfileError } from '@cardfile/core'
import { asCardfileError } from './as-cardfile-error'

/** What {@link useTrackedRequests} gives a hook that sends requests for its caller. */
export interface TrackedRequests {
  /** How many requests are under way. */
  readonly pending: number
  /** Why the last request that ended failed; null once one succeeds. */
  readonly error: CardfileError | null
  /**
   * Runs one request: counted in `pending` while it runs, its outcome kept in `error`. A
   * failure is rethrown as a CardfileError, so callers can await it or render it.
   */
  track<T>(send: () => Promise<T>): Promise<T>
}

/**
 * Counts a hook's requests under way and keeps the last one's failure. State is left alone
 * once the component unmounted, as a request may end after its component is gone.
 */
export function useTrackedRequests(): TrackedRequests {
  const [pending, setPending] = useState(0)
  const [error, setError] = useState<CardfileError | null>(null)
  const mounted = useRef(true)
  useEffect(() => {
    mounted.current = true
    return () => {
      mounted.current = false
    }
  }, [])

  const track = useCallback(async <T>(send: () => Promise<T>): Promise<T> => {
    setPending((n) => n + 1)
    try {
      const answer = await send()
      if (mounted.current) setError(null)
      return answer
    } catch (e) {
      const failure = asCardfileError(e)
      if (mounted.current) setError(failure)
      throw failure
    } finally {
      if (mounted.current) setPending((n) => n - 1)
    }
  }, [])

  return { pending, error, track }
}
