import { CardfileError, ErrorCodes } from '@cardfile/core'
import type { JobHandler } from '../jobs/job-runner'
import type { Job, JobState } from '../jobs/job-store'
import {
  IDEMPOTENCY_HEADER,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  isRetryableStatus,
} from '../crm/contract'
import { backoffMs } from '../crm/delivery-job'
import type { RetryPolicy } from '../crm/delivery-job'
import { signBody } from '../crm/signing'
import type { ServerLogger } from '../sync/logger'
import type { WebhookEvent, WebhookStore } from './webhook-store'
import { OutboundCallError, outboundPost } from '../http/outbound-post'
import type { OutboundAnswer } from '../http/outbound-post'

/** The job kind of a webhook delivery. */
export const WEBHOOK_DELIVERY = 'webhook-delivery'

/** The header naming the event of a delivery. */
export const EVENT_HEADER = 'x-cardfile-event'

/** What a delivery job sends. */
export interface WebhookDeliveryInput {
  readonly webhookId: string
  readonly contactId: string
  readonly event: WebhookEvent
  /** The JSON body, sent byte for byte on every attempt. */
  readonly body: string
}

/** Where a delivery stands, as admins read it. */
export type WebhookDeliveryState = 'pending' | 'delivered' | 'dead'

/** A delivery as admins read it (dead ones can be retried). */
export interface WebhookDelivery {
  readonly id: string
  readonly webhookId: string
  readonly contactId: string
  readonly event: WebhookEvent
  readonly state: WebhookDeliveryState
  /** Attempts made since it was queued or last retried by an admin. */
  readonly attempts: number
  readonly nextAttemptAt: number
  readonly lastError: string | null
  readonly body: string
  readonly createdAt: number
  readonly updatedAt: number
}

/** The job states of each delivery state. */
export const DELIVERY_JOB_STATES: Readonly<Record<WebhookDeliveryState, readonly JobState[]>> = {
  pending: ['queued', 'running'],
  delivered: ['done'],
  dead: ['failed'],
}

/**
 * The lane of a contact's deliveries: sent one at a time, in the order their changes were
 * committed, and removed together when the contact is erased.
 */
export const webhookLane = (workspace: string, contactId: string): string =>
  `webhook/${workspace}/${contactId}`

/** A delivery job as admins read it; null for a cancelled one. */
export function webhookDeliveryOf(job: Job): WebhookDelivery | null {
  const state: WebhookDeliveryState | null =
    job.state === 'queued' || job.state === 'running'
      ? 'pending'
      : job.state === 'done'
        ? 'delivered'
        : job.state === 'failed'
          ? 'dead'
          : null
  if (state === null) return null
  const input = job.input as WebhookDeliveryInput
  return {
    id: job.id,
    webhookId: input.webhookId,
    contactId: input.contactId,
    event: input.event,
    state,
    attempts: job.attempts,
    nextAttemptAt: job.runAt,
    lastError: state === 'delivered' ? null : job.error,
    body: input.body,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
  }
}

/**
 * A failed attempt: retried with backoff unless `retryable` is false (a 4xx answer other than
 * 408, 425 and 429). The message names the status only, never the receiver's answer, which
 * may echo the body.
 */
export class WebhookFailed extends CardfileError {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(retryable ? ErrorCodes.Unavailable : ErrorCodes.BadRequest, message)
  }
}

export interface WebhookDeliveryOptions {
  readonly store: WebhookStore
  readonly retry: RetryPolicy
  readonly timeoutMs: number
  readonly random: () => number
  readonly logger: Pick<ServerLogger, 'warn'>
  /** Lets deliveries reach loopback and private addresses (development, tests). */
  readonly allowPrivateTargets?: boolean
}

/** What one attempt sends, and where. */
interface Attempt {
  readonly url: string
  readonly secret: string
  readonly input: WebhookDeliveryInput
  readonly id: string
  readonly timeoutMs: number
  readonly allowPrivate: boolean
}

/**
 * One signed POST through the server's guarded outbound POST (the address connected to is the
 * address checked). Only the status is read: a receiver says yes or no by it, and a large
 * answer must not fill this process's memory. Redirects are never followed: a 3xx is a
 * refusal, as the place it points to was never checked.
 */
async function post(attempt: Attempt): Promise<void> {
  const { input, timeoutMs } = attempt
  let answer: OutboundAnswer
  try {
    answer = await outboundPost(attempt.url, {
      headers: {
        'content-type': 'application/json',
        [SIGNATURE_HEADER]: signBody(input.body, attempt.secret),
        [TIMESTAMP_HEADER]: String(Date.now()),
        [IDEMPOTENCY_HEADER]: attempt.id,
        [EVENT_HEADER]: input.event,
        'user-agent': 'cardfile-webhooks/1',
      },
      body: input.body,
      timeoutMs,
      allowPrivate: attempt.allowPrivate,
      maxResponseBytes: 0,
      what: 'A webhook URL',
      whatHost: 'The webhook host',
    })
  } catch (error) {
    if (!(error instanceof OutboundCallError)) throw error
    switch (error.failure) {
      case 'forbidden-target':
        // Final: the address will not become public by waiting.
        throw new WebhookFailed(error.message, false)
      case 'timeout':
        throw new WebhookFailed(`the receiver did not answer within ${timeoutMs} ms`, true)
      // No answer body is read, so none can be too large.
      case 'network':
      case 'too-large':
        throw new WebhookFailed('the receiver could not be reached', true)
    }
  }
  const { status } = answer
  if (status >= 300 && status < 400) {
    throw new WebhookFailed(`the receiver answered ${status}; redirects are not followed`, false)
  }
  if (status < 200 || status >= 300) {
    throw new WebhookFailed(`the receiver answered ${status}`, isRetryableStatus(status))
  }
}

/**
 * Sends webhook delivery jobs: each attempt signed like the CRM's calls (HMAC-SHA256 of the raw
 * body with the webhook's secret, a timestamp) with the delivery id as its idempotency key, so
 * a receiver applies a delivery sent twice (a crash after it answered) once. Failed attempts
 * are retried with exponential backoff and jitter up to `maxAttempts`; a permanent refusal
 * or the last failure leaves it dead (a failed job), which an admin can retry. A delivery of
 * a webhook deleted since is dropped unsent. A URL whose host is (or now resolves to) a
 * loopback, private or link-local address is refused unsent, dead at once with the reason,
 * unless `allowPrivateTargets`.
 *
 * @example
 * const handler = webhookDeliveryHandler({ store: backend.webhooks, retry: DEFAULT_RETRY, timeoutMs: 10_000, random: Math.random, logger })
 */
export function webhookDeliveryHandler(options: WebhookDeliveryOptions): JobHandler {
  const { store, retry, timeoutMs, random, logger } = options
  const allowPrivateTargets = options.allowPrivateTargets ?? false
  return {
    kind: WEBHOOK_DELIVERY,
    async run({ job }) {
      const input = job.input as WebhookDeliveryInput
      const hook = await store.get(job.workspace, input.webhookId)
      if (hook === null) return { dropped: 'the webhook was deleted' }
      try {
        await post({
          url: hook.url,
          secret: hook.secret,
          input,
          id: job.id,
          timeoutMs,
          allowPrivate: allowPrivateTargets,
        })
      } catch (error) {
        if (
          error instanceof WebhookFailed &&
          (!error.retryable || job.attempts >= retry.maxAttempts)
        ) {
          logger.warn('webhook delivery is dead', {
            id: job.id,
            webhook: hook.id,
            attempts: job.attempts,
          })
        }
        throw error
      }
      return { attempts: job.attempts }
    },
    retryAfter(attempts, error) {
      if (error instanceof WebhookFailed && !error.retryable) return null
      return attempts >= retry.maxAttempts ? null : backoffMs(attempts, retry, random)
    },
  }
}
