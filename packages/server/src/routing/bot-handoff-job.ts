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
import type { Job, NewJob } from '../jobs/job-store'
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

const BACKOFF_MS = [1000, 5000, 30_000, 120_000]

const isDeleted = (error: unknown): boolean =>
  error instanceof CardfileError && error.code === ErrorCodes.Deleted

export interface BotHandoffJobOptions {
  readonly host: DocumentHost
  readonly router: Router
  readonly handoff: BotHandoffOptions
  readonly logger: Pick<ServerLogger, 'warn'>
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
      return BACKOFF_MS[Math.min(attempt - 1, BACKOFF_MS.length - 1)] ?? null
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
