import { errorContext } from '../sync/logger'
import type { ServerLogger } from '../sync/logger'
import type { DomainEvent, DomainEventType } from './domain-event'
import type { ConsumerCursor, EventStore } from './event-store'

/**
 * A part of the server that reacts to domain events. Its `name` is where its cursor is stored:
 * never rename one that has run. `handle` may run more than once for an event (a crash after
 * the effect and before the cursor moved), so it must be idempotent in effect; a slow effect
 * (a webhook, a whole-workspace job) belongs in a job that `handle` enqueues under a key made
 * from the event.
 */
export interface EventConsumer {
  readonly name: string
  /** The event types it wants; the others only move its cursor. */
  readonly types: readonly DomainEventType[]
  handle(event: DomainEvent): Promise<void>
}

export interface EventPumpOptions {
  readonly store: EventStore
  readonly consumers: readonly EventConsumer[]
  /** Who holds the leases: unique per process run. */
  readonly owner: string
  readonly logger: Pick<ServerLogger, 'warn' | 'error'>
  /** How long a lease runs without renewal (default 30 s): the wait after a crash. */
  readonly leaseMs?: number
  /** How often to look for events nobody announced (default 1 s). */
  readonly pollMs?: number
  /** Events read per round (default 100). */
  readonly batchSize?: number
  /** Attempts of a failing handler before its event is skipped (default 5). */
  readonly maxAttempts?: number
  /** Delay before the first retry of a failing handler, doubled each time (default 200 ms). */
  readonly retryDelayMs?: number
}

/** Delivers the event log to its consumers. */
export interface EventPump {
  /** Something was just committed: look now instead of at the next poll. */
  poke(): void
  /**
   * Resolves once every consumer made its first claim (or failed to): a consumer seen for the
   * first time starts after the newest event then, so a change committed from then on reaches it.
   */
  started(): Promise<void>
  /** Resolves when every consumer has handled everything committed before the call. */
  settled(): Promise<void>
  /** Stops after the handlers running now, and gives the leases up. */
  stop(): Promise<void>
}

const sleep = (ms: number, signal: { stopped: boolean; wake: (() => void) | null }) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms)
    timer.unref()
    function done(): void {
      clearTimeout(timer)
      signal.wake = null
      resolve()
    }
    signal.wake = done
  })

/**
 * Runs every consumer in its own loop: take the lease, read past the cursor, handle, move the
 * cursor past each event once handled; renew the lease while a handler runs; retry a failing
 * handler with backoff and, past `maxAttempts`, log and skip its event so one poisoned event
 * cannot stop the stream.
 *
 * @example
 * const pump = startEventPump({ store: backend.events, consumers, owner, logger })
 * // after a commit: pump.poke(); on shutdown: await pump.stop()
 */
export function startEventPump(options: EventPumpOptions): EventPump {
  const leaseMs = options.leaseMs ?? 30_000
  const pollMs = options.pollMs ?? 1000
  const batchSize = options.batchSize ?? 100
  const maxAttempts = options.maxAttempts ?? 5
  const retryDelayMs = options.retryDelayMs ?? 200
  const { store, owner, logger } = options
  const state = { stopped: false }
  /** Bumped by poke(): a loop that saw an older value looks again before sleeping. */
  let pokes = 0
  // Every consumer's first lease in one write: each write of a durable store waits for a flush
  // to disk, and the server is not handed out before these claims are made. Should it fail,
  // each loop claims on its own, as it does whenever it lost its lease.
  const firstClaimAt = performance.now()
  const firstClaims =
    options.consumers.length === 0
      ? Promise.resolve(null)
      : store
          .claimAll(
            options.consumers.map((consumer) => consumer.name),
            owner,
            leaseMs,
          )
          .catch((error: unknown) => {
            logger.warn('claiming the event consumers failed; each claims on its own', {
              ...errorContext(error),
            })
            return null
          })
  const loops = options.consumers.map((consumer, index) => {
    const signal: { stopped: boolean; wake: (() => void) | null } = { stopped: false, wake: null }
    const waiters: { pokes: number; resolve: () => void }[] = []
    let idleAt = -1
    const wanted = new Set(consumer.types)
    const markIdle = (seen: number): void => {
      idleAt = seen
      for (const w of waiters.splice(0)) {
        if (w.pokes <= seen) w.resolve()
        else waiters.push(w)
      }
    }

    const handleWithRetry = async (event: DomainEvent): Promise<void> => {
      for (let attempt = 1; ; attempt += 1) {
        // Keeps the lease while a slow handler runs, so no other process takes the stream.
        const renew = setInterval(
          () => {
            void store.advance(consumer.name, owner, 0, leaseMs).catch(() => undefined)
          },
          Math.max(50, Math.floor(leaseMs / 3)),
        )
        renew.unref()
        try {
          await consumer.handle(event)
          return
        } catch (error) {
          if (attempt >= maxAttempts || state.stopped) {
            logger.error('event handler failed; event skipped', {
              consumer: consumer.name,
              event: event.seq,
              type: event.type,
              ...errorContext(error),
            })
            if (state.stopped) throw error
            return
          }
          logger.warn('event handler failed; retrying', {
            consumer: consumer.name,
            event: event.seq,
            attempt,
            ...errorContext(error),
          })
          await sleep(retryDelayMs * 2 ** (attempt - 1), signal)
        } finally {
          clearInterval(renew)
        }
      }
    }

    /**
     * The lease as this loop holds it, with the cursor as far as it got. Renewing it stores
     * the cursor: the store is written when an effect was done, when the lease needs renewing,
     * and on stop, not on every look at the log (an edit pokes every consumer, and most of them
     * skip most events).
     */
    let held: { cursor: number; stored: number; renewedAt: number } | null = null
    const renewEveryMs = leaseMs / 3

    const storeCursor = async (): Promise<void> => {
      if (held === null) return
      const at = performance.now()
      if (await store.advance(consumer.name, owner, held.cursor, leaseMs)) {
        held.stored = held.cursor
        held.renewedAt = at
      } else {
        // Lost (run out while this process stalled, taken by another): claim it again.
        held = null
      }
    }

    /** The first claim is the pump's, made for every consumer at once. */
    let first = true

    const holdLease = async (): Promise<boolean> => {
      if (held !== null && performance.now() - held.renewedAt >= renewEveryMs) await storeCursor()
      if (held !== null) return true
      let at = performance.now()
      let lease: { readonly cursor: number } | null
      const claims = first ? await firstClaims : null
      first = false
      if (claims !== null) {
        at = firstClaimAt
        lease = claims[index] ?? null
      } else lease = await store.claim(consumer.name, owner, leaseMs)
      held = lease === null ? null : { cursor: lease.cursor, stored: lease.cursor, renewedAt: at }
      return held !== null
    }

    let markClaimed: () => void = () => undefined
    const claimed = new Promise<void>((resolve) => (markClaimed = resolve))

    const run = async (): Promise<void> => {
      while (!state.stopped) {
        const seen = pokes
        let progressed = false
        try {
          const holding = await holdLease().finally(markClaimed)
          // Another process holds the stream: there is nothing for this one to catch up on.
          if (!holding || held === null) markIdle(seen)
          else {
            const lease: { cursor: number } = held
            const events = await store.read(lease.cursor, batchSize)
            let effects = false
            for (const event of events) {
              if (state.stopped) break
              if (wanted.has(event.type)) {
                await handleWithRetry(event)
                effects = true
              }
              lease.cursor = event.seq
              progressed = true
            }
            // Stored once the effects of the batch are done (one cut off by a crash runs
            // again); past events it skipped, the cursor is stored with the next renewal.
            if (effects) await storeCursor()
            if (events.length === 0) markIdle(seen)
          }
        } catch (error) {
          if (state.stopped) break
          logger.error('event consumer failed; trying again', {
            consumer: consumer.name,
            ...errorContext(error),
          })
        }
        if (!progressed && pokes === seen && !state.stopped) await sleep(pollMs, signal)
      }
      markClaimed()
      for (const w of waiters.splice(0)) w.resolve()
    }
    const done = run()
    return {
      done,
      /** Where the loop got to, stored when the pump gives its leases up. */
      cursor: (): ConsumerCursor => ({ name: consumer.name, cursor: held?.cursor ?? 0 }),
      claimed,
      wake: () => signal.wake?.(),
      /** Resolves once the loop found nothing new after the poke count `at`. */
      caughtUp: (at: number) =>
        new Promise<void>((resolve) => {
          if (state.stopped || idleAt >= at) resolve()
          else waiters.push({ pokes: at, resolve })
        }),
    }
  })

  return {
    async started() {
      await Promise.all(loops.map((loop) => loop.claimed))
    },
    poke() {
      pokes += 1
      for (const loop of loops) loop.wake()
    },
    async settled() {
      pokes += 1
      const at = pokes
      for (const loop of loops) loop.wake()
      await Promise.all(loops.map((loop) => loop.caughtUp(at)))
    },
    async stop() {
      state.stopped = true
      for (const loop of loops) loop.wake()
      await Promise.all(loops.map((loop) => loop.done))
      if (loops.length === 0) return
      // Every cursor stored and every lease given up in one write (past events a consumer
      // skipped, its cursor is only stored with a renewal or here).
      await store
        .release(
          loops.map((loop) => loop.cursor()),
          owner,
        )
        .catch((error: unknown) => {
          logger.warn('giving the event consumers up failed; their leases run out instead', {
            ...errorContext(error),
          })
        })
    },
  }
}
