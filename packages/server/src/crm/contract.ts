/**
 * The CRM contract: what Cardfile sends to a workspace's CRM and what it accepts back. Bodies
 * address attributes by their alias. docs/crm-api.md describes it for CRM developers; these
 * types are the same contract for TypeScript callers (adapters, the reference CRM).
 */
import { z } from 'zod'
import type { ChannelId, ConversationStatus, Role } from '@cardfile/core'

/** Header with `sha256=<hex HMAC-SHA256 of the raw body, keyed with the hex secret>`. */
export const SIGNATURE_HEADER = 'x-cardfile-signature'
/** Header with the time the request was sent, in ms since epoch. */
export const TIMESTAMP_HEADER = 'x-cardfile-timestamp'
/** Header with the request's idempotency key: a retried delivery keeps its key. */
export const IDEMPOTENCY_HEADER = 'idempotency-key'

/**
 * Why a lookup ran. `connection-test`: an admin tested the connection; it names no real contact
 * (its contact id is `connection-test`, its lookup empty) and its answer is checked, never applied.
 */
export type LookupTrigger =
  'conversation-started' | 'lookup-attribute-changed' | 'agent' | 'connection-test'

/** Values by attribute alias (a dropdown's value is its option label; null clears). */
export type AliasValues = Readonly<Record<string, string | null>>

/** Body of a lookup request (POST to the lookup URL). */
export interface LookupRequest {
  readonly type: 'lookup'
  readonly workspace: string
  readonly trigger: LookupTrigger
  readonly contact: {
    readonly id: string
    readonly channel: ChannelId | null
    /** Standard attributes by alias (`{ vip: 'true' }`); empty while VIP is off. */
    readonly standard: AliasValues
  }
  /** The contact's lookup attributes that have a value, by alias. */
  readonly lookup: AliasValues
  /** The conversation that started, for `conversation-started`. */
  readonly conversationId: string | null
}

/** What the lookup URL answers (200, JSON). */
export interface LookupResponse {
  /** A CRM record matched: the contact is validated. */
  readonly found: boolean
  /** Values of CRM-managed attributes by alias; omitted ones are left as they are. */
  readonly values?: AliasValues
}

/** Who changed a value sent in a write-back. */
export interface ChangedBy {
  readonly role: Role
  readonly userId: string
  readonly at: number
}

/** Body of a write-back (POST to the write-back URL): agents' edits of CRM-managed attributes. */
export interface WriteBackRequest {
  readonly type: 'write-back'
  readonly workspace: string
  /** Increases per contact: a CRM may ignore a write-back older than one it applied. */
  readonly sequence: number
  readonly contact: {
    readonly id: string
    readonly lookup: AliasValues
    /** Standard attributes by alias (`{ vip: 'true' }`); empty while VIP is off. */
    readonly standard: AliasValues
  }
  /** Only the values agents changed since the last write-back, by alias. */
  readonly values: AliasValues
  readonly changedBy: Readonly<Record<string, ChangedBy>>
  readonly conversation: {
    readonly id: string
    readonly status: { readonly from: ConversationStatus | null; readonly to: ConversationStatus }
  }
}

/** Body of a notification (POST to the notification URL). */
export interface NotificationRequest {
  readonly type: 'notification'
  readonly workspace: string
  readonly sequence: number
  readonly event: 'conversation-started' | 'conversation-status-changed'
  readonly contact: {
    readonly id: string
    /** Standard attributes by alias (`{ vip: 'true' }`); empty while VIP is off. */
    readonly standard: AliasValues
  }
  readonly conversation: {
    readonly id: string
    readonly status: { readonly from: ConversationStatus | null; readonly to: ConversationStatus }
  }
  readonly at: number
}

/** A queued delivery's body. */
export type DeliveryBody = WriteBackRequest | NotificationRequest

const aliasValues = z.record(z.string(), z.union([z.string(), z.null()]))

/** Shape check of a lookup response; values are checked against definitions afterwards. */
export const lookupResponseSchema = z
  .object({ found: z.boolean(), values: aliasValues.optional() })
  .passthrough()

/**
 * Statuses a delivery is retried after: timeouts, too early, rate limits and server errors.
 * Every other non-2xx status is permanent (the delivery goes to the dead letter at once).
 */
export const isRetryableStatus = (status: number): boolean =>
  status === 408 || status === 425 || status === 429 || status >= 500
