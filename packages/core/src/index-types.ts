import type { ChannelId, ConversationStatus } from './types'

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
