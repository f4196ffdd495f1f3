import { CardfileError } from '@cardfile/core'
import type { Job, JobState } from '../jobs/job-store'
import type { JobHandler } from '../jobs/job-runner'
import type { ServerMetrics } from '../metrics'
import type { ServerLogger } from '../sync/logger'
import { CrmCallError } from './adapter'
import type { CrmAdapter } from './adapter'
import type { DeliveryBody } from './contract'
import type { CrmConfig, CrmDelivery, DeliveryKind, DeliveryState } from './crm-storage'

/** The job kind of a write-back or notification to a workspace's CRM. */
export const CRM_DELIVERY = 'crm-delivery'

/** How deliveries are retried. */
export interface RetryPolicy {
  /** Attempts before a delivery goes to the dead letter. Default 8. */
  readonly maxAttempts: number
  /** Delay after the first failure, in ms; doubles on each further failure. Default 1000. */
  readonly baseDelayMs: number
  /** The longest delay between attempts, in ms. Default 5 minutes. */
  readonly maxDelayMs: number
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 1000, maxDelayMs: 300_000 }

/** How long a delivery waits while its workspace's connection is switched off. */
const PAUSED_RETRY_MS = 60_000

/** Counters of this process's delivery attempts, for `CrmService.metrics`. */
export interface DeliveryCounters {
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

/** What a delivery job is asked to send. */
export interface DeliveryInput {
  readonly contactId: string
  readonly kind: DeliveryKind
  /** The JSON body, sent byte for byte on every attempt. */
  readonly body: string
  /** The pending write-backs the body carries (cleared once the job is queued). */
  readonly attributeIds: readonly string[]
}

/**
 * A delivery job's progress: the attempts that reached a verdict (failed), and the job's
 * `attempts` when that was written. The job's own `attempts` also counts runs cut off by a
 * crash and runs while the connection was off, which are no failed attempts; and it goes back
 * to 0 when an admin retries a dead delivery, which `claim` tells apart from a later run.
 */
interface DeliveryProgress {
  readonly failures: number
  readonly claim: number
}

/** The lane of a contact's deliveries: one at a time, in the order they were queued. */
export const deliveryLane = (workspace: string, contactId: string): string =>
  `crm/${workspace}/${contactId}`

/** The job key of the `kind` delivery caused by the event `seq` (a replayed event adds none). */
export const deliveryKey = (seq: number, kind: DeliveryKind): string => `event/${seq}/${kind}`

const progressOf = (job: Job): DeliveryProgress | null => {
  const p = job.progress as Partial<DeliveryProgress> | null
  return typeof p?.failures === 'number' && typeof p.claim === 'number'
    ? { failures: p.failures, claim: p.claim }
    : null
}

/** Failed attempts since the job was queued or last revived. */
function failuresOf(job: Job): number {
  const progress = progressOf(job)
  if (progress === null) return 0
  // A running job's attempts already count this run; any other's count the last one.
  const sameLife =
    job.state === 'running' ? progress.claim < job.attempts : progress.claim <= job.attempts
  return sameLife ? progress.failures : 0
}

/** The job states of each delivery state. */
export const JOB_STATES: Readonly<Record<DeliveryState, readonly JobState[]>> = {
  pending: ['queued', 'running'],
  delivered: ['done'],
  dead: ['failed'],
}

const deliveryStateOf = (state: JobState): DeliveryState | null =>
  state === 'queued' || state === 'running'
    ? 'pending'
    : state === 'done'
      ? 'delivered'
      : state === 'failed'
        ? 'dead'
        : null

/** A delivery job as admins read it, or null for a job that is not one (cancelled). */
export function deliveryOf(job: Job): CrmDelivery | null {
  const state = deliveryStateOf(job.state)
  if (state === null) return null
  const input = job.input as DeliveryInput
  const result = job.result as { attempts?: unknown } | null
  return {
    id: job.id,
    workspace: job.workspace,
    contactId: input.contactId,
    seq: job.seq,
    kind: input.kind,
    body: input.body,
    state,
    attempts:
      state === 'delivered' && typeof result?.attempts === 'number'
        ? result.attempts
        : failuresOf(job),
    nextAttemptAt: job.runAt,
    lastError: state === 'delivered' ? null : job.error,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
  }
}

/** A delivery that cannot be sent now without it being a failed attempt (CRM switched off). */
export class DeliveryPaused extends Error {
  override readonly name = 'DeliveryPaused'
  constructor(readonly retryInMs: number) {
    super('the CRM connection is switched off')
  }
}

/**
 * A failed attempt, with the handler's verdict: retry in `retryInMs`, or dead when null. A
 * CardfileError, so the job runner logs its code only: the message may quote the CRM's answer,
 * which may echo a contact's values; it is kept with the job for admins.
 */
class DeliveryFailed extends CardfileError {
  constructor(
    cause: CrmCallError,
    readonly retryInMs: number | null,
  ) {
    super(cause.code, cause.message)
  }
}

const asCallError = (error: unknown): CrmCallError =>
  error instanceof CrmCallError
    ? error
    : new CrmCallError('network', error instanceof Error ? error.message : String(error), true)

export interface DeliveryHandlerOptions {
  readonly adapter: CrmAdapter
  readonly configOf: (workspace: string) => Promise<CrmConfig | null>
  readonly timeoutMs: number
  readonly retry: RetryPolicy
  readonly random: () => number
  readonly counters: DeliveryCounters
  readonly logger: ServerLogger
  readonly metrics: Pick<ServerMetrics, 'crmDeliveries' | 'crmDeliveryLatency'>
}

/**
 * Sends CRM delivery jobs: each attempt with the job's id as its idempotency key, so an
 * attempt cut short by a crash and sent again by the next worker is applied once by the CRM.
 * Failed attempts are retried with exponential backoff and jitter until `maxAttempts` (or at
 * once dead, for a permanent refusal); dead deliveries are failed jobs an admin can retry.
 * While the workspace's connection is off a delivery waits, without it counting as an attempt.
 *
 * @example
 * const handler = crmDeliveryHandler({ adapter, configOf, timeoutMs: 5000, retry: DEFAULT_RETRY, ... })
 * startJobRunner({ store: backend.jobs, handlers: [handler], owner, logger })
 */
export function crmDeliveryHandler(options: DeliveryHandlerOptions): JobHandler {
  const { adapter, configOf, timeoutMs, retry, random, counters, logger, metrics } = options
  return {
    kind: CRM_DELIVERY,
    async run(context) {
      const { job } = context
      const input = job.input as DeliveryInput
      const config = await configOf(job.workspace)
      if (config === null || !config.enabled) throw new DeliveryPaused(PAUSED_RETRY_MS)
      const failures = failuresOf(job)
      counters.attempts += 1
      try {
        const body = JSON.parse(input.body) as DeliveryBody
        await adapter.deliver({ config, idempotencyKey: job.id, timeoutMs }, body, input.body)
      } catch (error) {
        const callError = asCallError(error)
        const attempts = failures + 1
        await context.progress({ failures: attempts, claim: job.attempts })
        if (!callError.retryable || attempts >= retry.maxAttempts) {
          counters.dead += 1
          metrics.crmDeliveries.inc(1, { event: 'dead' })
          // The kind of failure and the status only (see DeliveryFailed).
          logger.warn('CRM delivery is dead', {
            id: job.id,
            attempts,
            failure: callError.failure,
            ...(callError.status === undefined ? {} : { status: callError.status }),
          })
          throw new DeliveryFailed(callError, null)
        }
        counters.retried += 1
        metrics.crmDeliveries.inc(1, { event: 'retried' })
        const delay = Math.max(backoffMs(attempts, retry, random), callError.retryAfterMs ?? 0)
        throw new DeliveryFailed(callError, delay)
      }
      counters.delivered += 1
      metrics.crmDeliveries.inc(1, { event: 'sent' })
      metrics.crmDeliveryLatency.observe(Math.max(0, Date.now() - job.createdAt) / 1000)
      return { attempts: failures + 1 }
    },
    retryAfter(attempts, error) {
      if (error instanceof DeliveryFailed || error instanceof DeliveryPaused) {
        return error.retryInMs
      }
      // The handler itself failed (reading the configuration): the same policy, by run.
      return attempts >= retry.maxAttempts ? null : backoffMs(attempts, retry, random)
    },
  }
}
