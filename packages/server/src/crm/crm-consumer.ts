import { CardfileError, ErrorCodes, contactDocName, conversationDocName } from '@cardfile/core'
import type { ConversationStatus, SchemaView } from '@cardfile/core'
import type { DocumentHost } from '../document-host'
import type { DomainEvent, DomainEventData } from '../events/domain-event'
import type { EventConsumer } from '../events/event-consumers'
import type { Job } from '../jobs/job-store'
import type { CrmAdapter } from './adapter'
import type {
  AliasValues,
  ChangedBy,
  DeliveryBody,
  LookupTrigger,
  NotificationRequest,
  WriteBackRequest,
} from './contract'
import type { CrmConfig, CrmStorage, DeliveryKind } from './crm-storage'
import { fieldOf, lookupValues, standardValues, toCrmValue } from './crm-values'
import { deliveryKey } from './delivery-job'
import type { DeliveryInput } from './delivery-job'

/** The consumer's name: where its cursor is stored. Never rename it. */
export const CRM_CONSUMER = 'crm'

/** A delivery to queue for a contact. */
export interface QueuedDelivery {
  readonly workspace: string
  readonly contactId: string
  readonly kind: DeliveryKind
  /** Unique per delivery: made from the event that caused it. */
  readonly key: string
  readonly body: (sequence: number) => DeliveryBody
  readonly attributeIds: readonly string[]
}

/** What the consumer uses of the CRM integration. */
export interface CrmConsumerDeps {
  readonly host: DocumentHost
  readonly storage: CrmStorage
  readonly adapter: CrmAdapter
  /** The connection and definitions when the CRM is on for the workspace, else null. */
  active(workspace: string): Promise<{ config: CrmConfig; view: SchemaView } | null>
  /** Looks a contact up and applies the answer (in the contact's order). */
  lookup(
    workspace: string,
    contactId: string,
    trigger: LookupTrigger,
    conversationId: string | null,
  ): Promise<unknown>
  /** Runs `work` after the contact's earlier CRM work and before its later. */
  serial<T>(workspace: string, contactId: string, work: () => Promise<T>): Promise<T>
  /** Mirrors the contact's pending write-backs in its `crmPending` flag. */
  writePendingFlag(workspace: string, contactId: string): Promise<void>
  /** Queues a delivery job under its key; resolves the job (an earlier one with that key). */
  queue(delivery: QueuedDelivery): Promise<Job>
}

/** Is the event the integration's own write (lookup results, status flags)? */
const isOwnWrite = (event: DomainEvent, ownUserId: string): boolean =>
  event.actor?.userId === ownUserId && event.actor.role === 'system'

/**
 * The CRM's event consumer: keeps agents' edits of CRM-managed attributes as pending
 * write-backs, looks a contact up when a lookup attribute gets a value or a conversation starts,
 * and queues notifications and (on a status change) the pending write-backs as delivery jobs.
 * Handling an event twice (after a crash) has the effect of handling it once: pending rows are
 * upserts, a delivery's job key is made from the event's seq, and a lookup writes the same
 * answer again.
 *
 * @example
 * const consumer = crmConsumer({ host, storage, adapter, active, lookup, serial, writePendingFlag, queue }, CRM_ACTOR.userId)
 */
export function crmConsumer(deps: CrmConsumerDeps, ownUserId: string): EventConsumer {
  const { host, storage, adapter } = deps

  const onContactChanged = async (
    event: DomainEvent,
    data: DomainEventData['contact.changed'],
  ): Promise<void> => {
    const { workspace, subject: contactId } = event
    const state = await deps.active(workspace)
    if (state === null) return
    const { view } = state
    const seen = await host.read(contactDocName(workspace, contactId), (doc) => {
      const lookupChanged = [...data.custom, ...data.platform].some((id) => {
        const def = view.definitions.get(id)
        const map = doc.getMap(def?.kind === 'platform' ? 'platform' : 'custom')
        return def?.lookup === true && (fieldOf(map.get(id))?.value ?? null) !== null
      })
      const edits = data.custom.flatMap((id) => {
        const def = view.definitions.get(id)
        const field = fieldOf(doc.getMap('custom').get(id))
        if (def?.crmManaged !== true || field === null) return []
        if (field.by.role !== 'agent' && field.by.role !== 'admin') return []
        return [{ attributeId: id, by: field.by }]
      })
      return { lookupChanged, edits }
    })
    if (seen.edits.length > 0) {
      await deps.serial(workspace, contactId, async () => {
        await storage.putPending(seen.edits.map((e) => ({ workspace, contactId, ...e })))
        await deps.writePendingFlag(workspace, contactId)
      })
    }
    // A new contact is looked up when its conversation starts, right after.
    if (seen.lookupChanged && !data.created) {
      await deps.lookup(workspace, contactId, 'lookup-attribute-changed', null)
    }
  }

  const notify = async (
    event: DomainEvent,
    config: CrmConfig,
    view: SchemaView,
    contactId: string,
    name: NotificationRequest['event'],
    status: NotificationRequest['conversation']['status'],
  ): Promise<void> => {
    if (config.notificationUrl === null && adapter.requiresUrls) return
    const { workspace, subject: conversationId } = event
    const standard = (await host.read(contactDocName(workspace, contactId), (doc) =>
      standardValues(doc, view),
    )) as AliasValues
    await deps.queue({
      workspace,
      contactId,
      kind: 'notification',
      key: deliveryKey(event.seq, 'notification'),
      attributeIds: [],
      body: (sequence): NotificationRequest => ({
        type: 'notification',
        workspace,
        sequence,
        event: name,
        contact: { id: contactId, standard },
        conversation: { id: conversationId, status },
        at: event.at,
      }),
    })
  }

  /** The conversation's status now; throws `deleted` once it was erased with its contact. */
  const statusOf = (workspace: string, conversationId: string) =>
    host.read(
      conversationDocName(workspace, conversationId),
      (doc) => doc.getMap('meta').get('status') as ConversationStatus | undefined,
    )

  const onConversationStarted = async (
    event: DomainEvent,
    { contactId }: DomainEventData['conversation.started'],
  ): Promise<void> => {
    const { workspace, subject: conversationId } = event
    const state = await deps.active(workspace)
    if (state === null) return
    const status = await statusOf(workspace, conversationId)
    if (status === undefined) return
    await notify(event, state.config, state.view, contactId, 'conversation-started', {
      from: null,
      to: status,
    })
    await deps.lookup(workspace, contactId, 'conversation-started', conversationId)
  }

  const onStatusChanged = async (
    event: DomainEvent,
    { contactId, from, to }: DomainEventData['conversation.status-changed'],
  ): Promise<void> => {
    const { workspace, subject: conversationId } = event
    const state = await deps.active(workspace)
    if (state === null) return
    const { config, view } = state
    // Nothing more is sent about a conversation erased since.
    await statusOf(workspace, conversationId)
    const conversation = { id: conversationId, status: { from, to } }
    await notify(event, config, view, contactId, 'conversation-status-changed', { from, to })
    if (config.writeBackUrl === null && adapter.requiresUrls) return
    await deps.serial(workspace, contactId, async () => {
      const pending = await storage.listPending(workspace, contactId)
      if (pending.length === 0) return
      const body = await host.read(contactDocName(workspace, contactId), (doc) => {
        const values: Record<string, string | null> = {}
        const changedBy: Record<string, ChangedBy> = {}
        for (const p of pending) {
          const def = view.definitions.get(p.attributeId)
          if (def === undefined) continue
          const field = fieldOf(doc.getMap('custom').get(p.attributeId))
          values[def.alias] = toCrmValue(def, field?.value ?? null)
          changedBy[def.alias] = p.by
        }
        return {
          values,
          changedBy,
          lookup: lookupValues(doc, view) as AliasValues,
          standard: standardValues(doc, view) as AliasValues,
        }
      })
      // The job first, under a key made from this event, then the pending rows it carries: a
      // crash in between leaves them pending, and the replayed event finds the same job under
      // its key (no second write-back) and clears them then. No one transaction spans both
      // stores, so this order is what keeps an edit from being lost or sent twice.
      const job = await deps.queue({
        workspace,
        contactId,
        kind: 'write-back',
        key: deliveryKey(event.seq, 'write-back'),
        attributeIds: pending.map((p) => p.attributeId),
        body: (sequence): WriteBackRequest => ({
          type: 'write-back',
          workspace,
          sequence,
          contact: { id: contactId, lookup: body.lookup, standard: body.standard },
          values: body.values,
          changedBy: body.changedBy,
          conversation,
        }),
      })
      await storage.clearPending(workspace, contactId, (job.input as DeliveryInput).attributeIds)
      await deps.writePendingFlag(workspace, contactId)
    })
  }

  return {
    name: CRM_CONSUMER,
    types: ['contact.changed', 'conversation.started', 'conversation.status-changed'],
    async handle(event) {
      if (isOwnWrite(event, ownUserId)) return
      try {
        if (event.type === 'contact.changed') await onContactChanged(event, event.data)
        else if (event.type === 'conversation.started') {
          await onConversationStarted(event, event.data)
        } else if (event.type === 'conversation.status-changed') {
          await onStatusChanged(event, event.data)
        }
      } catch (error) {
        // An erased contact or conversation: there is nothing left to tell the CRM about.
        if (error instanceof CardfileError && error.code === ErrorCodes.Deleted) return
        throw error
      }
    },
  }
}
