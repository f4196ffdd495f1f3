import { randomUUID } from 'node:crypto'
import { CardfileError, ErrorCodes } from '@cardfile/core'
import type { DocumentHost } from '../document-host'
import type { EventConsumer } from '../events/event-consumers'
import type { NewJob, Job } from '../jobs/job-store'
import { readSchema } from '../contacts/contact-values'
import { WEBHOOK_DELIVERY, webhookLane } from './webhook-delivery'
import type { WebhookDeliveryInput } from './webhook-delivery'
import { webhookEventOf, webhookPayload } from './webhook-payload'
import type { WebhookBody } from './webhook-payload'
import type { WebhookStore } from './webhook-store'

/** The consumer's name: where its cursor is stored. Never rename it. */
export const WEBHOOKS_CONSUMER = 'webhooks'

/** What the consumer needs from the server. */
export interface WebhookConsumerDeps {
  readonly host: DocumentHost
  readonly store: WebhookStore
  enqueue(job: NewJob): Promise<Job>
}

/**
 * The webhooks' event consumer: for each contact event (created, attributes changed, VIP
 * changed, linked, deleted) queues one delivery job per webhook of the workspace that
 * subscribed to it, under a key made from the event and the webhook, so an event handled twice
 * (after a crash) queues nothing the second time. A contact's deliveries share its lane (sent
 * in order, erased with it); a deletion's goes alone, since the erasure empties that lane.
 *
 * @example
 * const consumer = webhookConsumer({ host, store: backend.webhooks, enqueue })
 */
export function webhookConsumer(deps: WebhookConsumerDeps): EventConsumer {
  return {
    name: WEBHOOKS_CONSUMER,
    types: ['contact.changed', 'contact.vip-changed', 'contact.linked', 'contact.erased'],
    async handle(event) {
      const name = webhookEventOf(event)
      if (name === null) return
      const hooks = (await deps.store.list(event.workspace)).filter((h) => h.events.includes(name))
      if (hooks.length === 0) return
      let payload
      try {
        payload = await webhookPayload(
          deps.host,
          await readSchema(deps.host, event.workspace),
          event,
          name,
        )
      } catch (error) {
        // Erased since: its deletion has a delivery of its own, nothing else is told.
        if (error instanceof CardfileError && error.code === ErrorCodes.Deleted) return
        throw error
      }
      const contactId = event.subject
      for (const hook of hooks) {
        const id = randomUUID()
        const body: WebhookBody = { id, ...payload }
        const input: WebhookDeliveryInput = {
          webhookId: hook.id,
          contactId,
          event: name,
          body: JSON.stringify(body),
        }
        await deps.enqueue({
          id,
          kind: WEBHOOK_DELIVERY,
          workspace: event.workspace,
          key: `event/${event.seq}/${hook.id}`,
          lane: name === 'contact.deleted' ? null : webhookLane(event.workspace, contactId),
          input,
        })
      }
    },
  }
}
