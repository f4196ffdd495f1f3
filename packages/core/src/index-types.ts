import type { ChannelId, ConversationStatus, Role } from './types'

/**
 * A contact as the server's index knows it: what the HTTP list endpoints (VIP group, linked
 * contacts, history members) answer, and the base of the server's own index row. Shared here so
 * the server and the hooks that read those answers cannot drift apart.
 */
export interface IndexedContact {
  readonly id: string
  readonly channel: ChannelId
  readonly platformUserId: string
  /** Masked identity for display (`an***@example.org`). */
  readonly hint: string
  readonly vip: boolean
  /** Normalised value of the workspace's matching attribute, or null. */
  readonly matchValue: string | null
  readonly createdAt: number
  readonly updatedAt: number
}

/** A conversation as the server's index lists it (queues, history). */
export interface IndexedConversation {
  readonly id: string
  readonly contactId: string
  readonly channel: ChannelId
  readonly status: ConversationStatus
  readonly team: string | null
  readonly priority: number
  readonly createdAt: number
  readonly updatedAt: number
}

/**
 * One change of one value of a contact, as `GET /api/<ws>/contacts/<id>/history/values` answers
 * it (newest first) and `useAttributeHistory` returns it.
 */
export interface AttributeChange {
  /** Grows with every change: newer changes have higher ids. */
  readonly id: number
  /** A custom or platform attribute id, or `vip` for the VIP flag. */
  readonly attributeId: string
  /** The value before (null: none); text, or true/false for VIP. */
  readonly previous: string | boolean | null
  /** The value after (null: cleared). */
  readonly value: string | boolean | null
  /** Who changed it: a user and their role, or the CRM, a bot or the system. */
  readonly by: { readonly role: Role; readonly userId: string }
  /** When the server committed it, in ms since the epoch. */
  readonly at: number
}
