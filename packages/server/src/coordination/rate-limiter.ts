/**
 * A fixed-window counter per key, bounded in memory. The HTTP API counts failed
 * authentications per remote address with it, so a client guessing tokens is slowed to a few
 * attempts a minute and answered 429 without the cost of verifying each guess.
 *
 * @example
 * const failures = createRateLimiter({ limit: 100, windowMs: 60_000 })
 * const wait = failures.retryAfter(ip) // seconds until allowed again, 0 when allowed
 * if (wait === 0 && !ok) failures.hit(ip)
 */
export interface RateLimiter {
  /** Seconds until `key` may try again; 0 while it is under the limit. */
  retryAfter(key: string, now?: number): number | Promise<number>
  /** Counts one event for `key`. */
  hit(key: string, now?: number): void | Promise<void>
}

export interface RateLimiterOptions {
  /** Events allowed per window. */
  readonly limit: number
  readonly windowMs: number
  /** Most keys remembered; the oldest windows are forgotten first. Default 10,000. */
  readonly maxKeys?: number
}

/** The in-process rate limiter (answers at once; a shared one may answer with a promise). */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { limit, windowMs } = options
  const maxKeys = options.maxKeys ?? 10_000
  const windows = new Map<string, { start: number; count: number }>()

  const current = (key: string, now: number) => {
    const window = windows.get(key)
    if (window === undefined || now - window.start >= windowMs) return undefined
    return window
  }

  return {
    retryAfter(key, now = Date.now()) {
      const window = current(key, now)
      if (window === undefined || window.count < limit) return 0
      return Math.max(1, Math.ceil((window.start + windowMs - now) / 1000))
    },
    hit(key, now = Date.now()) {
      const window = current(key, now)
      if (window !== undefined) {
        window.count += 1
        return
      }
      windows.delete(key)
      windows.set(key, { start: now, count: 1 })
      // Maps iterate in insertion order, and a new window is always re-inserted, so the first
      // keys are the oldest windows.
      while (windows.size > maxKeys) {
        const oldest = windows.keys().next()
        if (oldest.done === true) break
        windows.delete(oldest.value)
      }
    },
  }
}
