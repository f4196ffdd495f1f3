import { ContactDoc, contactDocName } from '@cardfile/core'
import type { FieldValue, Provenance, SchemaView } from '@cardfile/core'
import type { DocumentHost } from '../document-host'
import type { DomainEvent, EventActor } from '../events/domain-event'
import { within } from '../http/within'
import type { WebhookEvent } from './webhook-store'

/** One attribute value as a webhook shows it: by id and alias, with its provenance. */
export interface WebhookValue {
  readonly id: string
  readonly alias: string | null
  readonly kind: 'custom' | 'platform'
  /** Null once cleared. */
  readonly value: unknown
  readonly by: Provenance | null
}

/** The JSON body of a webhook delivery (`WebhookBody` in docs/openapi.yaml). */
export interface WebhookBody {
  /** The delivery's id, also sent as its idempotency key: the same on every attempt. */
  readonly id: string
  readonly type: WebhookEvent
  readonly workspace: string
  /** When the change was committed (ms since epoch). */
  readonly at: number
  /** Who made it; null for the server itself. */
  readonly actor: EventActor | null
  readonly contact: {
    readonly id: string
    /** The masked handle (`@an***a`); the only trace of a deleted contact besides its id. */
    readonly hint?: string
    readonly channel?: string
    readonly createdAt?: number
  }
  /**
   * What changed; by event: `values`, `vip`, `other`, `kind` (`link`, `unlink`, or `revert`
   * with `reverted`, the kind of the manual record removed) and `source` (`manual`, or `match`
   * for contacts linked or unlinked automatically by a matching value), or nothing for a
   * deletion.
   */
  readonly data: Readonly<Record<string, unknown>>
}

/** A body without its delivery id (one is made per webhook). */
export type WebhookPayload = Omit<WebhookBody, 'id'>

/** The webhook event a domain event is, or null for one no webhook hears. */
export function webhookEventOf(event: DomainEvent): WebhookEvent | null {
  switch (event.type) {
    case 'contact.changed':
      if (event.data.created) return 'contact.created'
      return event.data.custom.length + event.data.platform.length > 0
        ? 'contact.attributes-changed'
        : null
    case 'contact.vip-changed':
      return 'contact.vip-changed'
    case 'contact.linked':
      return 'contact.linked'
    case 'contact.erased':
      return 'contact.deleted'
    default:
      return null
  }
}

const valueOf = (
  id: string,
  kind: 'custom' | 'platform',
  field: FieldValue<unknown> | undefined,
  schema: SchemaView,
): WebhookValue => ({
  id,
  alias: schema.definitions.get(id)?.alias ?? null,
  kind,
  value: field?.value ?? null,
  by: field?.by ?? null,
})

/**
 * The body of `name` for the domain event, read from the contact as it stands now (a later
 * change may already show; each change has a delivery of its own). A deleted contact's body
 * holds its id and masked hint only. Throws `deleted` when the contact was erased since: there
 * is nothing left to tell about it but its deletion.
 *
 * @example
 * const payload = await webhookPayload(host, schema, event, 'contact.attributes-changed')
 */
export async function webhookPayload(
  host: DocumentHost,
  schema: SchemaView,
  event: DomainEvent,
  name: WebhookEvent,
): Promise<WebhookPayload> {
  const base = { type: name, workspace: event.workspace, at: event.at, actor: event.actor }
  const contactId = event.subject
  if (event.type === 'contact.erased') {
    return {
      ...base,
      contact: {
        id: contactId,
        ...(event.data.hint === undefined ? {} : { hint: event.data.hint }),
      },
      data: {},
    }
  }
  return host.read(contactDocName(event.workspace, contactId), (doc) =>
    within(new ContactDoc(doc, contactId), (c): WebhookPayload => {
      const data = c.read()
      const contact = {
        id: contactId,
        ...(data.profile === null
          ? {}
          : {
              hint: data.profile.hint,
              channel: data.profile.channel,
              createdAt: data.profile.createdAt,
            }),
      }
      switch (event.type) {
        case 'contact.changed': {
          const custom = name === 'contact.created' ? Object.keys(data.custom) : event.data.custom
          const platform =
            name === 'contact.created' ? Object.keys(data.platform) : event.data.platform
          return {
            ...base,
            contact,
            data: {
              values: [
                ...custom.map((id) => valueOf(id, 'custom', data.custom[id], schema)),
                ...platform.map((id) => valueOf(id, 'platform', data.platform[id], schema)),
              ],
            },
          }
        }
        case 'contact.vip-changed':
          return { ...base, contact, data: { vip: event.data.vip } }
        case 'contact.linked':
          return {
            ...base,
            contact,
            data: {
              other: event.data.other,
              kind: event.data.kind,
              ...(event.data.reverted === undefined ? {} : { reverted: event.data.reverted }),
              source: event.data.source ?? 'manual',
            },
          }
        default:
          return { ...base, contact, data: {} }
      }
    }),
  )
}
