import {
  CardfileError,
  ConversationDoc,
  ErrorCodes,
  conversationDocName,
  valueLabel,
} from '@cardfile/core'
import type { ContactData, SchemaView } from '@cardfile/core'
import type { DocumentHost } from '../document-host'
import { within } from '../http/within'
import { backoffMs } from '../crm/delivery-job'
import type { RetryPolicy } from '../crm/delivery-job'
import type { Job, JobState, NewJob } from '../jobs/job-store'
import type { JobHandler } from '../jobs/job-runner'
import { errorContext } from '../sync/logger'
import type { ServerLogger } from '../sync/logger'
import { BotHandoffError, sendBotHandoff } from './bot-handoff'
import type { BotHandoffAttribute, BotHandoffOptions, BotHandoffPayload } from './bot-handoff'
import type { Router } from './router'

/** The job kind of a bot hand-off. */
export const BOT_HANDOFF_JOB = 'bot-handoff'

/** What a hand-off job holds: ids only; the payload is read when it runs. */
export interface BotHandoffInput {
  readonly conversationId: string
  readonly contactId: string
}

/** The lane of a contact's hand-offs (dropped with the contact when it is erased). */
export const botHandoffLane = (workspace: string, contactId: string): string =>
  `bot/${workspace}/${contactId}`

/** The hand-off job of a conversation: one per conversation, whatever replays its event. */
export const botHandoffJob = (
  workspace: string,
  conversationId: string,
  contactId: string,
): NewJob => ({
  kind: BOT_HANDOFF_JOB,
  workspace,
  key: `${workspace}/${conversationId}`,
  lane: botHandoffLane(workspace, contactId),
  input: { conversationId, contactId } satisfies BotHandoffInput,
})

/** The contact's values with their labels, for the bot. */
function handoffAttributes(
  contact: ContactData,
  schema: SchemaView,
): Record<string, BotHandoffAttribute> {
  const out: Record<string, BotHandoffAttribute> = {}
  for (const [kind, values] of [
    ['platform', contact.platform],
    ['custom', contact.custom],
  ] as const) {
    for (const [id, field] of Object.entries(values)) {
      const def = schema.definitions.get(id)
      if (def === undefined || def.retired) continue
      out[id] = {
        label: def.label,
        kind,
        alias: def.alias.length > 0 ? def.alias : null,
        value: field.value,
        display: valueLabel(def, field.value)?.label ?? field.value,
      }
    }
  }
  return out
}

/** The longest wait between two attempts at a hand-off (as for CRM deliveries). */
const MAX_DELAY_MS = 300_000

const isDeleted = (error: unknown): boolean =>
  error instanceof CardfileError && error.code === ErrorCodes.Deleted

export interface BotHandoffJobOptions {
  readonly host: DocumentHost
  readonly router: Router
  readonly handoff: BotHandoffOptions
  readonly logger: Pick<ServerLogger, 'warn'>
  /** Jitter source of the backoff (default Math.random). */
  readonly random?: () => number
}

/**
 * Runs bot hand-offs. The payload is read from the documents when the job runs (the job holds
 * no contact values); a conversation resolved or erased by then is not handed off. Every
 * attempt carries the job's id as its idempotency key, so a bot that dedupes by it acts once
 * even when a crash between its answer and the job's completion makes the server ask again.
 *
 * @example
 * startJobRunner({ store, handlers: [botHandoffJobHandler({ host, router, handoff, logger })], owner, logger })
 */
export function botHandoffJobHandler(options: BotHandoffJobOptions): JobHandler {
  const { host, router, handoff, logger } = options
  const attempts = Math.max(1, handoff.attempts ?? 5)
  const policy: RetryPolicy = {
    maxAttempts: attempts,
    baseDelayMs: Math.max(0, handoff.baseDelayMs ?? 1000),
    maxDelayMs: MAX_DELAY_MS,
  }
  const random = options.random ?? Math.random
  return {
    kind: BOT_HANDOFF_JOB,
    async run({ job }) {
      const { workspace } = job
      const { conversationId, contactId } = job.input as BotHandoffInput
      let payload: BotHandoffPayload
      try {
        const status = await host.read(conversationDocName(workspace, conversationId), (doc) =>
          within(new ConversationDoc(doc, conversationId), (c) => c.meta()?.status ?? null),
        )
        if (status === null || status === 'resolved') return { sent: false, reason: 'closed' }
        const ctx = await router.context(workspace, contactId)
        const channel = ctx.contact.profile?.channel
        if (channel === undefined) return { sent: false, reason: 'no-contact' }
        payload = {
          event: 'conversation.started',
          idempotencyKey: job.id,
          workspace,
          conversationId,
          contactId,
          channel,
          vip: ctx.vip,
          attributes: handoffAttributes(ctx.contact, ctx.schema),
        }
      } catch (error) {
        if (isDeleted(error)) return { sent: false, reason: 'erased' }
        throw error
      }
      try {
        await sendBotHandoff(handoff, payload)
      } catch (error) {
        const context = { workspace, conversation: conversationId, attempt: job.attempts }
        if (error instanceof BotHandoffError && error.status !== null) {
          logger.warn('bot hand-off refused', { ...context, status: error.status })
        } else logger.warn('bot hand-off failed', { ...context, ...errorContext(error) })
        throw error
      }
      return { sent: true }
    },
    retryAfter(attempt, error) {
      if (error instanceof BotHandoffError && !error.retryable) return null
      if (attempt >= attempts) return null
      return backoffMs(attempt, policy, random)
    },
    view: (job: Job) => ({
      id: job.id,
      kind: BOT_HANDOFF_JOB,
      workspace: job.workspace,
      conversationId: (job.input as BotHandoffInput).conversationId,
      state: job.state,
      attempts: job.attempts,
      result: job.result,
      error: job.error,
      startedAt: job.createdAt,
      finishedAt: job.finishedAt,
    }),
  }
}

/** Where a hand-off stands in the outbox, as for CRM deliveries. */
export type HandoffState = 'pending' | 'delivered' | 'dead'

/** The job states of each hand-off state. */
export const HANDOFF_JOB_STATES: Readonly<Record<HandoffState, readonly JobState[]>> = {
  pending: ['queued', 'running'],
  delivered: ['done'],
  dead: ['failed'],
}

/** A hand-off as admins list it: ids, counts and the last error, never the contact's values. */
export interface BotHandoffDelivery {
  readonly id: string
  readonly conversationId: string
  readonly contactId: string
  readonly state: HandoffState
  /** Attempts since it was queued or last retried by an admin. */
  readonly attempts: number
  /** When a pending hand-off is tried next (ms since epoch). */
  readonly nextAttemptAt: number
  readonly lastError: string | null
  /** What the run found: `{ sent: true }`, or `{ sent: false, reason }` (closed, erased). */
  readonly result: unknown
  readonly createdAt: number
  readonly updatedAt: number
}

/**
 * A hand-off job as the outbox routes show it, or null for a cancelled one.
 *
 * @example
 * handoffDeliveryOf(job)?.state // 'dead'
 */
export function handoffDeliveryOf(job: Job): BotHandoffDelivery | null {
  const state = (Object.keys(HANDOFF_JOB_STATES) as HandoffState[]).find((s) =>
    HANDOFF_JOB_STATES[s].includes(job.state),
  )
  if (state === undefined) return null
  const input = job.input as BotHandoffInput
  return {
    id: job.id,
    conversationId: input.conversationId,
    contactId: input.contactId,
    state,
    attempts: job.attempts,
    nextAttemptAt: job.runAt,
    lastError: state === 'delivered' ? null : job.error,
    result: job.result,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
  }
}
