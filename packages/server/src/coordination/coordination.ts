import type { ClusterBus } from '../cluster/cluster-bus'
import { createLocalCache } from './cache'
import type { InvalidatingCache } from './cache'
import { createKeyedLock } from './keyed-lock'
import type { KeyedLock } from './keyed-lock'
import { createRateLimiter } from './rate-limiter'
import type { RateLimiter, RateLimiterOptions } from './rate-limiter'

/**
 * Where a server keeps state that must be one for all its instances: locks that serialise work
 * per key (one new contact per channel identity, one CRM conversation per contact at a time),
 * counters for rate limits, and caches with invalidation. Everything else in the server takes
 * these from here instead of keeping maps of its own, so running several instances means
 * passing another implementation, not finding every map. The default is in-process.
 *
 * @example
 * const server = await createCardfileServer({ backend, auth, coordination: createLocalCoordination() })
 */
export interface Coordination {
  /** Locks per key: a task for a key runs after the previous one for that key settled. */
  readonly locks: KeyedLock
  /** A fixed-window rate limiter named `name` (one per use: failed authentications, ...). */
  rateLimiter(name: string, options: RateLimiterOptions): RateLimiter
  /** A cache named `name` (one per kind of value: CRM configurations, ...). */
  cache<T>(name: string): InvalidatingCache<T>
  /**
   * How instances reach each other. Present: documents get one owner instance at a time, and
   * the others forward their clients' changes to it. Absent: this is the only instance.
   */
  readonly bus?: ClusterBus
  /**
   * False while a service the coordination depends on does not answer (`/readyz` then says not
   * ready). Absent: always available.
   */
  available?(): boolean
}

/**
 * Coordination within one process: the default, and all a single server needs.
 *
 * @example
 * const coordination = createLocalCoordination()
 * await coordination.locks.run('demo/email/ana@example.com', () => createContact())
 */
export function createLocalCoordination(): Coordination {
  const limiters = new Map<string, RateLimiter>()
  const caches = new Map<string, InvalidatingCache<unknown>>()
  return {
    locks: createKeyedLock(),
    rateLimiter(name, options) {
      let limiter = limiters.get(name)
      if (limiter === undefined) {
        limiter = createRateLimiter(options)
        limiters.set(name, limiter)
      }
      return limiter
    },
    cache<T>(name: string): InvalidatingCache<T> {
      let cache = caches.get(name)
      if (cache === undefined) {
        cache = createLocalCache<unknown>()
        caches.set(name, cache)
      }
      return cache as InvalidatingCache<T>
    },
  }
}
