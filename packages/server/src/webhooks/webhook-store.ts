/** What a webhook can be told about: one name per kind of contact event. */
export type WebhookEvent =
  | 'contact.created'
  | 'contact.attributes-changed'
  | 'contact.vip-changed'
  | 'contact.linked'
  | 'contact.deleted'

/** Every webhook event, in the order the docs list them. */
export const WEBHOOK_EVENTS: readonly WebhookEvent[] = [
  'contact.created',
  'contact.attributes-changed',
  'contact.vip-changed',
  'contact.linked',
  'contact.deleted',
]

/** A webhook an admin registered for a workspace. `secret` never leaves the server in full. */
export interface Webhook {
  readonly id: string
  readonly workspace: string
  /** Where deliveries are POSTed (http or https). */
  readonly url: string
  /** The events it is told about (at least one). */
  readonly events: readonly WebhookEvent[]
  /** Hex HMAC key its deliveries are signed with (the CRM signing scheme). */
  readonly secret: string
  readonly createdAt: number
  readonly updatedAt: number
}

/**
 * Where webhook registrations live (`backend.webhooks`). They hold no contact data; the
 * deliveries are jobs of the jobs table, in their contact's lane.
 */
export interface WebhookStore {
  /** Stores a new webhook (its id is new). */
  create(webhook: Webhook): Promise<void>
  /** A workspace's webhooks, oldest first. */
  list(workspace: string): Promise<Webhook[]>
  get(workspace: string, id: string): Promise<Webhook | null>
  /** Deletes a webhook; false when there was none. */
  remove(workspace: string, id: string): Promise<boolean>
  /** Replaces a webhook's secret; false when there is no such webhook. */
  setSecret(workspace: string, id: string, secret: string, at: number): Promise<boolean>
}
