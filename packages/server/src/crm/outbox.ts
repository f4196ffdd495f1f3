import type { ServerMetrics } from '../metrics'
import { errorContext } from '../sync/logger'
import type { ServerLogger } from '../sync/logger'
import { CrmCallError } from './adapter'
import type { CrmDelivery, CrmStorage } from './crm-storage'

/** How the outbox retries. */
export interface RetryPolicy {
  /** Attempts before a delivery goes to the dead letter. Default 8. */
  readonly maxAttempts: number
  /** Delay after the first failure, in ms; doubles on each further failure. Default 1000. */
  readonly baseDelayMs: number
  /** The longest delay between attempts, in ms. Default 5 minutes. */
  readonly maxDelayMs: number
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 1000, maxDelayMs: 300_000 }

/** Counters of the outbox, for metrics. */
export interface OutboxCounters {
  attempts: number
  delivered: number
  retried: number
  dead: number
}

/** The delay before attempt `attempts + 1`: exponential, capped, with "equal jitter". */
export function backoffMs(attempts: number, policy: RetryPolicy, random: () => number): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempts - 1))
  // Half fixed, half random: retries of many deliveries spread out instead of arriving together.
  return Math.round(exponential / 2 + random() * (exponential / 2))
}

/** A delivery that cannot be sent now without it being a failed attempt (CRM switched off). */
export class DeliveryPaused extends Error {
  override readonly name = 'DeliveryPaused'
  constructor(readonly retryInMs: number) {
    super('the CRM connection is switched off')
  }
}

export interface OutboxOptions {
  readonly storage: CrmStorage
  /** Sends one delivery; throws a CrmCallError (or DeliveryPaused) when it did not go through. */
  readonly send: (delivery: CrmDelivery) => Promise<void>
  readonly retry: RetryPolicy
  readonly logger: ServerLogger
  readonly random?: () => number
  /** Deliveries sent at once (each to a different contact). Default 8. */
  readonly concurrency?: number
  /** Where sent, retried and dead deliveries and their latency are counted (`GET /metrics`). */
  readonly metrics?: Pick<ServerMetrics, 'crmDeliveries' | 'crmDeliveryLatency'>
}

/** The durable outbox worker. */
export interface Outbox {
  readonly counters: OutboxCounters
  /** Looks for due deliveries now (after an enqueue or a revive). */
  poke(): void
  /** Stops sending and waits for attempts in flight. Queued deliveries stay in storage. */
  close(): Promise<void>
}

/**
 * Sends queued deliveries from storage: one at a time per contact, lowest sequence first, each
 * attempt with the delivery's own idempotency key; failed attempts are retried with exponential
 * backoff and jitter until `maxAttempts`, then the delivery is dead (visible to admins, who can
 * revive it). Everything lives in storage, so a new outbox on the same storage (a restarted
 * server) carries on where the old one stopped; an attempt cut short by a crash is sent again
 * with the same key, which the CRM uses to apply it once.
 *
 * @example
 * const outbox = startOutbox({ storage: storage.crm, send, retry: DEFAULT_RETRY, logger })
 * outbox.poke()
 */
export function startOutbox(options: OutboxOptions): Outbox {
  const { storage, retry, logger, metrics } = options
  const random = options.random ?? Math.random
  const concurrency = options.concurrency ?? 8
  const counters: OutboxCounters = { attempts: 0, delivered: 0, retried: 0, dead: 0 }
  const inFlight = new Map<string, Promise<void>>()
  let timer: ReturnType<typeof setTimeout> | null = null
  let running = false
  let again = false
  let closed = false

  const contactKey = (d: CrmDelivery): string => `${d.workspace}\u0000${d.contactId}`

  const attempt = async (delivery: CrmDelivery): Promise<void> => {
    const attempts = delivery.attempts + 1
    counters.attempts += 1
    try {
      await options.send(delivery)
      const at = Date.now()
      await storage.markDelivered(delivery.id, attempts, at)
      counters.delivered += 1
      metrics?.crmDeliveries.inc(1, { event: 'sent' })
      metrics?.crmDeliveryLatency.observe(Math.max(0, at - delivery.createdAt) / 1000)
    } catch (error) {
      if (error instanceof DeliveryPaused) {
        await storage.markRetry(
          delivery.id,
          delivery.attempts,
          Date.now() + error.retryInMs,
          error.message,
        )
        return
      }
      const callError =
        error instanceof CrmCallError
          ? error
          : new CrmCallError(
              'network',
              error instanceof Error ? error.message : String(error),
              true,
            )
      const message = callError.message
      if (!callError.retryable || attempts >= retry.maxAttempts) {
        await storage.markDead(delivery.id, attempts, message, Date.now())
        counters.dead += 1
        metrics?.crmDeliveries.inc(1, { event: 'dead' })
        // The message may quote the CRM's answer, which may echo the contact's values: the log
        // gets the kind of failure and the status only; the message stays with the delivery.
        logger.warn('CRM delivery is dead', {
          id: delivery.id,
          attempts,
          failure: callError.failure,
          ...(callError.status === undefined ? {} : { status: callError.status }),
        })
        return
      }
      const delay = Math.max(backoffMs(attempts, retry, random), callError.retryAfterMs ?? 0)
      await storage.markRetry(delivery.id, attempts, Date.now() + delay, message)
      counters.retried += 1
      metrics?.crmDeliveries.inc(1, { event: 'retried' })
    }
  }

  const schedule = async (): Promise<void> => {
    if (closed) return
    const next = await storage.nextDueAt()
    if (closed || next === null) return
    if (timer !== null) clearTimeout(timer)
    // Re-check at least every 30 s: a revive or another process may have changed the queue.
    const wait = Math.min(30_000, Math.max(0, next - Date.now()))
    timer = setTimeout(() => {
      timer = null
      poke()
    }, wait)
    timer.unref()
  }

  const run = async (): Promise<void> => {
    const due = await storage.dueHeads(Date.now(), concurrency * 4)
    for (const delivery of due) {
      if (closed || inFlight.size >= concurrency) break
      const key = contactKey(delivery)
      if (inFlight.has(key)) continue
      const done = attempt(delivery)
        .catch((error: unknown) => {
          logger.error('CRM outbox could not record an attempt', errorContext(error))
        })
        .finally(() => {
          inFlight.delete(key)
          poke()
        })
      inFlight.set(key, done)
    }
    await schedule()
  }

  const poke = (): void => {
    if (closed) return
    if (running) {
      again = true
      return
    }
    running = true
    run()
      .catch((error: unknown) => {
        logger.error('CRM outbox failed to read its queue', errorContext(error))
      })
      .finally(() => {
        running = false
        if (again) {
          again = false
          poke()
        }
      })
  }

  poke()
  return {
    counters,
    poke,
    async close() {
      closed = true
      if (timer !== null) clearTimeout(timer)
      await Promise.all(inFlight.values())
    },
  }
}
