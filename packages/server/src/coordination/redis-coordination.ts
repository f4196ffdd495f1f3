import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { CardfileError, ErrorCodes } from '@cardfile/core'
import type { InvalidatingCache } from './cache'
import type { Coordination } from './coordination'
import { createKeyedLock } from './keyed-lock'
import type { KeyedLock } from './keyed-lock'
import { createRateLimiter } from './rate-limiter'
import { createRedisBus } from './redis-bus'
import type { ClusterBus } from '../cluster/cluster-bus'
import type { RateLimiter, RateLimiterOptions } from './rate-limiter'

export interface RedisCoordinationOptions {
  /** `redis://[:password@]host:port[/db]`. */
  readonly url: string
  /** Prefix of every key and channel, so several deployments can share one Redis. */
  readonly prefix?: string
  /**
   * How long a lock outlives a holder that stopped renewing it (a crashed or paused process),
   * in ms. The holder renews it every third of that. Default 15000.
   */
  readonly lockTtlMs?: number
  /** How long `locks.run` waits for a lock before failing with `timeout`, in ms. Default 30000. */
  readonly lockWaitMs?: number
  /** Where connection trouble is reported (it never reaches a caller that can do anything). */
  readonly onError?: (error: Error) => void
}

/** {@link Coordination} shared by every instance through Redis. */
export interface RedisCoordination extends Coordination {
  available(): boolean
  readonly bus: ClusterBus
  /** Closes every connection. */
  close(): Promise<void>
}

// Renews the lock only while it is still ours; deletes it only if it is still ours.
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1]) else return 0 end`

/**
 * Coordination through Redis, for several server instances:
 *
 * - **Rate limits** count in Redis (fixed windows, `INCR` + `PEXPIRE`), so a client cannot
 *   spread its attempts over instances. While Redis is down each instance counts on its own
 *   rather than letting everything through.
 * - **Caches** hold values in each process and drop them on an invalidation published over
 *   Redis by whichever instance changed the value. Pub/sub loses what is sent while a
 *   subscriber reconnects, so a cache is emptied whenever its subscription (re)starts, and it
 *   caches nothing while not subscribed: it may load more often, never serve a stale value.
 * - **Locks** are Redis keys set with `NX` and a random token, renewed while the task runs and
 *   released only by their holder. Such a lock keeps two instances from working on one key at
 *   once in normal operation, but a holder paused past the lock's time can wake up still
 *   working: whatever must never happen twice must also be fenced where it is written (the
 *   jobs table's leases, the document owners' epochs).
 *
 * @example
 * const coordination = await createRedisCoordination({ url: 'redis://cache:6379' })
 * const server = await createCardfileServer({ backend, coordination, auth })
 */
export async function createRedisCoordination(
  options: RedisCoordinationOptions,
): Promise<RedisCoordination> {
  const prefix = options.prefix ?? 'cardfile'
  const lockTtlMs = options.lockTtlMs ?? 15_000
  const lockWaitMs = options.lockWaitMs ?? 30_000
  const report = (error: Error): void => options.onError?.(error)
  const connect = (): Redis =>
    new Redis(options.url, {
      // Commands fail at once while disconnected instead of queueing without bound.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 5000,
      retryStrategy: (times) => Math.min(times * 200, 2000),
      lazyConnect: true,
    })
  const redis = connect()
  const subscriber = connect()
  redis.on('error', report)
  subscriber.on('error', report)
  try {
    await Promise.all([redis.connect(), subscriber.connect()])
  } catch {
    redis.disconnect()
    subscriber.disconnect()
    throw new CardfileError(ErrorCodes.Unavailable, 'Redis is unavailable; retry later')
  }

  const channel = `${prefix}:invalidate`
  const caches = new Map<string, RedisCache<unknown>>()
  let subscribed = false
  const subscribe = async (): Promise<void> => {
    try {
      await subscriber.subscribe(channel)
      // Invalidations sent while we were not listening are lost: start every cache afresh.
      for (const cache of caches.values()) cache.clear()
      subscribed = true
    } catch (error) {
      report(error as Error)
    }
  }
  subscriber.on('ready', () => void subscribe())
  subscriber.on('close', () => {
    subscribed = false
    for (const cache of caches.values()) cache.clear()
  })
  // Who sent an invalidation: an instance has already dropped its own.
  const origin = randomBytes(8).toString('hex')
  subscriber.on('message', (_channel: string, message: string) => {
    const [from, name, ...key] = message.split('\u0000')
    if (from === origin || name === undefined) return
    caches.get(name)?.drop(key.join('\u0000'))
  })
  await subscribe()

  const limiters = new Map<string, RateLimiter>()
  const bus = createRedisBus(connect, prefix, report)
  const locks = createRedisLocks(redis, `${prefix}:lock:`, lockTtlMs, lockWaitMs)

  return {
    locks,
    bus,
    rateLimiter(name, limiterOptions) {
      let limiter = limiters.get(name)
      if (limiter === undefined) {
        limiter = createRedisRateLimiter(redis, `${prefix}:rate:${name}:`, limiterOptions, report)
        limiters.set(name, limiter)
      }
      return limiter
    },
    cache<T>(name: string): InvalidatingCache<T> {
      let cache = caches.get(name)
      if (cache === undefined) {
        cache = new RedisCache<unknown>(
          () => subscribed && subscriber.status === 'ready',
          (key) =>
            redis.publish(channel, `${origin}\u0000${name}\u0000${key}`).then(
              () => undefined,
              (error: Error) => report(error),
            ),
        )
        caches.set(name, cache)
      }
      return cache as unknown as InvalidatingCache<T>
    },
    available: () => redis.status === 'ready' && subscriber.status === 'ready' && subscribed,
    async close() {
      await Promise.allSettled([bus.stop(), redis.quit(), subscriber.quit()])
    },
  }
}

/** One named cache: values in this process, dropped on invalidations from any instance. */
class RedisCache<T> implements InvalidatingCache<T> {
  private readonly entries = new Map<string, Promise<T>>()

  constructor(
    private readonly subscribed: () => boolean,
    private readonly announce: (key: string) => Promise<void>,
  ) {}

  get(key: string, load: () => Promise<T>): Promise<T> {
    // Not listening for invalidations: a kept value could go stale without us hearing of it.
    if (!this.subscribed()) return load()
    const cached = this.entries.get(key)
    if (cached !== undefined) return cached
    // An invalidation while this load runs removes the entry, so its result is not kept.
    const entry = load()
    this.entries.set(key, entry)
    entry.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key)
    })
    return entry
  }

  set(key: string, value: T): void {
    if (this.subscribed()) this.entries.set(key, Promise.resolve(value))
    else this.entries.delete(key)
    void this.announce(key)
  }

  invalidate(key: string): void {
    this.drop(key)
    void this.announce(key)
  }

  /** Forgets `key` here (an invalidation heard from another instance). */
  drop(key: string): void {
    this.entries.delete(key)
  }

  clear(): void {
    this.entries.clear()
  }
}

/** Fixed windows counted in Redis; this process's own count while Redis does not answer. */
function createRedisRateLimiter(
  redis: Redis,
  prefix: string,
  options: RateLimiterOptions,
  report: (error: Error) => void,
): RateLimiter {
  const { limit, windowMs } = options
  const fallback = createRateLimiter(options)
  const keyOf = (key: string, now: number): string =>
    `${prefix}${key}:${Math.floor(now / windowMs)}`
  const windowEnd = (now: number): number => (Math.floor(now / windowMs) + 1) * windowMs
  return {
    async retryAfter(key, now = Date.now()) {
      try {
        const count = Number((await redis.get(keyOf(key, now))) ?? 0)
        if (count < limit) return 0
        return Math.max(1, Math.ceil((windowEnd(now) - now) / 1000))
      } catch (error) {
        report(error as Error)
        return fallback.retryAfter(key, now)
      }
    },
    async hit(key, now = Date.now()) {
      fallback.hit(key, now)
      try {
        const k = keyOf(key, now)
        await redis.multi().incr(k).pexpire(k, windowMs).exec()
      } catch (error) {
        report(error as Error)
      }
    },
  }
}

/** Locks held in Redis, one waiter per key per process (the others queue here, not there). */
function createRedisLocks(redis: Redis, prefix: string, ttlMs: number, waitMs: number): KeyedLock {
  const local = createKeyedLock()
  const acquire = async (key: string, token: string): Promise<void> => {
    const deadline = Date.now() + waitMs
    for (let delay = 10; ; delay = Math.min(delay * 2, 250)) {
      let taken: string | null
      try {
        taken = await redis.set(key, token, 'PX', ttlMs, 'NX')
      } catch {
        throw new CardfileError(ErrorCodes.Unavailable, 'Redis is unavailable; retry later')
      }
      if (taken === 'OK') return
      if (Date.now() + delay > deadline) {
        throw new CardfileError(ErrorCodes.Timeout, `lock ${key} is held by another instance`)
      }
      await new Promise((resolve) => setTimeout(resolve, delay))
    }
  }
  return {
    run<T>(key: string, task: () => Promise<T>): Promise<T> {
      return local.run(key, async () => {
        const redisKey = `${prefix}${key}`
        const token = randomBytes(12).toString('hex')
        await acquire(redisKey, token)
        const renewal = setInterval(() => {
          redis.eval(RENEW, 1, redisKey, token, ttlMs).catch(() => undefined)
        }, ttlMs / 3)
        renewal.unref()
        try {
          return await task()
        } finally {
          clearInterval(renewal)
          // If Redis is gone the lock runs out by itself after ttlMs.
          await redis.eval(RELEASE, 1, redisKey, token).catch(() => undefined)
        }
      })
    },
  }
}
